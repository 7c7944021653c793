import assert from "node:assert/strict";
import { closeSync, openSync, writeSync } from "node:fs";
import { mkdir, readFile, unlink, utimes, writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { loadPolicy } from "../../../src/policy/load.js";
import type { Diagnostic } from "../../../src/policy/diagnostic.js";
import type { PolicyLoadResult } from "../../../src/policy/loaded.js";
import {
  PolicyReloader,
  type ApplyOutcome,
  type PolicyReloadedEvent,
  type PolicyReloadFailedEvent,
  type PolicyReloaderOptions,
} from "../../../src/reload/reloader.js";
import {
  ConfigMapVolume,
  makeTempDir,
  removeTempDir,
  saveByRenameOver,
  saveInPlace,
  saveLikeVim,
  sleep,
  waitFor,
} from "./file-edits.js";

// Long enough past debounce + settle + load that an unwanted extra reload would have happened.
const QUIET_MS = 600;

/** Collects log lines by level. */
class CapturingLogger {
  readonly info: (message: string) => void;
  readonly warn: (message: string) => void;
  readonly error: (message: string) => void;
  readonly lines: { level: string; message: string }[] = [];

  constructor() {
    this.info = (message) => this.lines.push({ level: "info", message });
    this.warn = (message) => this.lines.push({ level: "warn", message });
    this.error = (message) => this.lines.push({ level: "error", message });
  }

  at(level: string): string[] {
    return this.lines.filter((line) => line.level === level).map((line) => line.message);
  }
}

/** The policy documents `apply` received, in order, as plain values. */
type Applied = unknown[];

describe("PolicyReloader", function () {
  this.timeout(10000);
  let dir: string;
  let file: string;
  let reloader: PolicyReloader | undefined;
  let applied: Applied;
  let reloads: PolicyReloadedEvent[];
  let failures: PolicyReloadFailedEvent[];
  let loads: number;
  let logger: CapturingLogger;

  beforeEach(async () => {
    dir = await makeTempDir();
    file = join(dir, "policy.yaml");
    applied = [];
    reloads = [];
    failures = [];
    loads = 0;
    logger = new CapturingLogger();
  });

  afterEach(async () => {
    await reloader?.close();
    reloader = undefined;
    await removeTempDir(dir);
  });

  /** The real (placeholder) loader, counted. */
  const countedLoad = async (path: string): Promise<PolicyLoadResult> => {
    loads += 1;
    return loadPolicy(path);
  };

  function create(options: Partial<PolicyReloaderOptions> = {}): PolicyReloader {
    reloader = new PolicyReloader({
      path: file,
      load: countedLoad,
      apply: (result) => {
        applied.push(result.policy);
        return {};
      },
      logger,
      ...options,
    });
    reloader.on("reload", (event) => reloads.push(event));
    reloader.on("reloadFailed", (event) => failures.push(event));
    return reloader;
  }

  async function started(options: Partial<PolicyReloaderOptions> = {}): Promise<PolicyReloader> {
    const created = create(options);
    const first = await created.start();
    assert.equal(first.status, "applied");
    return created;
  }

  it("loads and applies the policy on start, and reports it through the result only", async () => {
    await writeFile(file, "origins: [https://a.example]\n");
    const created = create();
    const first = await created.start();
    assertHas(first, { status: "applied", files: [file] });
    assert.deepEqual(applied, [{ origins: ["https://a.example"] }]);
    assert.equal(created.version, (await loadPolicy(file)).version);
    assert.deepEqual(reloads, []);
    assert.equal(logger.at("info").length, 1);
    assert.match(
      logger.at("info")[0]!,
      /^sockguard: policy loaded from .*policy\.yaml \(version [0-9a-f]{12}/,
    );
  });

  it("returns a failed start for a policy that does not load, and applies nothing", async () => {
    await writeFile(file, "origins: [unclosed\n");
    const created = create();
    const first = await created.start();
    assert.equal(first.status, "failed");
    if (first.status !== "failed") return;
    assertHas(first.diagnostics[0], { file, severity: "error" });
    assert.deepEqual(applied, []);
    assert.deepEqual(failures, [], "no event for the first load");
  });

  describe("reloads each way a file is saved exactly once", () => {
    const patterns: [string, (path: string, text: string) => Promise<void>][] = [
      ["a write in place", saveInPlace],
      ["a rename-over save", saveByRenameOver],
      ["vim's backup-rename-write", saveLikeVim],
    ];
    for (const [name, save] of patterns) {
      it(`reloads ${name}`, async () => {
        await writeFile(file, "version: 1\n");
        await started();
        await save(file, "version: 2\n");
        await waitFor("a reload", () => reloads.length === 1);
        await sleep(QUIET_MS);
        assert.equal(reloads.length, 1);
        assert.deepEqual(applied, [{ version: 1 }, { version: 2 }]);
        assert.deepEqual(reloads[0], {
          version: createHash("sha256").update("version: 2\n").digest("hex"),
          files: [file],
          warnings: [],
        });
        assert.deepEqual(failures, []);
      });
    }

    it("reloads a Kubernetes ConfigMap update", async () => {
      await ConfigMapVolume.create(dir, { "policy.yaml": "version: 1\n" }).then(async (volume) => {
        await started();
        await volume.update({ "policy.yaml": "version: 2\n" });
      });
      await waitFor("a reload", () => reloads.length === 1);
      await sleep(QUIET_MS);
      assert.deepEqual(applied, [{ version: 1 }, { version: 2 }]);
      assert.deepEqual(failures, []);
    });
  });

  it("does not even load after a touch or a save of identical bytes", async () => {
    await writeFile(file, "version: 1\n");
    await started();
    const loadsAfterStart = loads;
    const later = new Date(Date.now() + 5000);
    await utimes(file, later, later);
    await sleep(QUIET_MS);
    await saveByRenameOver(file, "version: 1\n");
    await sleep(QUIET_MS);
    assert.equal(loads - loadsAfterStart, 0);
    assert.deepEqual(reloads, []);
    assert.equal(applied.length, 1);
    // Still watching: a real edit goes through.
    await saveInPlace(file, "version: 2\n");
    await waitFor("a reload", () => reloads.length === 1);
  });

  describe("failing safely", () => {
    it("keeps the last good policy on invalid YAML, reports it once, and reloads the fix", async () => {
      await writeFile(file, "version: 1\n");
      await started();
      await saveInPlace(file, "version: [1\n");
      await waitFor("a failed reload", () => failures.length === 1);
      assert.deepEqual(failures[0]!.files, [file]);
      assert.equal(failures[0]!.diagnostics.length, 1);
      assertHas(failures[0]!.diagnostics[0], { file, severity: "error" });
      assert.match(failures[0]!.diagnostics[0]!.message, /^the policy could not be loaded: /);
      assert.ok(!failures[0]!.diagnostics[0]!.message.includes("\n"), "no excerpt of the file");
      assert.deepEqual(applied, [{ version: 1 }]);
      assert.equal(logger.at("error").length, 1);
      assert.match(
        logger.at("error")[0]!,
        /^sockguard: policy reload failed, the last good policy stays in force: .*policy\.yaml: error: /,
      );

      await saveInPlace(file, "version: 3\n");
      await waitFor("a reload", () => reloads.length === 1);
      assert.deepEqual(applied, [{ version: 1 }, { version: 3 }]);
      assert.equal(failures.length, 1);
    });

    it("keeps the last good policy while the policy file is deleted, and reloads it when it is back", async () => {
      await writeFile(file, "version: 1\n");
      await started();
      await unlink(file);
      await waitFor("a failed reload", () => failures.length === 1);
      assert.ok(failures[0]!.diagnostics[0]!.message.includes("ENOENT"));
      await sleep(QUIET_MS);
      await writeFile(file, "version: 2\n");
      await waitFor("a reload", () => reloads.length === 1);
      assert.deepEqual(applied, [{ version: 1 }, { version: 2 }]);
    });

    it("counts an empty (or half-deleted) file as a failure, not as an empty policy", async () => {
      await writeFile(file, "version: 1\n");
      await started();
      await saveInPlace(file, "");
      await waitFor("a failed reload", () => failures.length === 1);
      assert.equal(failures[0]!.diagnostics[0]!.message, "the loader returned no policy and no error");
      assert.equal(applied.length, 1);
    });

    it("says the failure is over when the file is fixed back to the policy in force, without applying it again", async () => {
      await writeFile(file, "version: 1\n");
      const created = await started();
      const inForce = created.version;
      await saveInPlace(file, "version: [1\n");
      await waitFor("a failed reload", () => failures.length === 1);
      await saveInPlace(file, "version: 1\n");
      await waitFor("the reload event", () => reloads.length === 1);
      assert.equal(reloads[0]!.version, inForce);
      assert.equal(applied.length, 1, "applied again");
      assert.ok(logger.at("info").at(-1)!.includes("the policy in force again matches the file"));
    });

    it("keeps the old version when apply throws or returns errors", async () => {
      await writeFile(file, "version: 1\n");
      let outcome: "throw" | "errors" | "ok" = "ok";
      const created = await started({
        apply: (result): ApplyOutcome => {
          if (outcome === "throw") throw new Error("compile exploded\nwith details");
          if (outcome === "errors") return { diagnostics: [diagnostic("error", "issuer key is not usable")] };
          applied.push(result.policy);
          return {};
        },
      });
      const inForce = created.version;
      outcome = "throw";
      await saveInPlace(file, "version: 2\n");
      await waitFor("a failed reload", () => failures.length === 1);
      assert.equal(failures[0]!.diagnostics[0]!.message, "the policy could not be applied: compile exploded");
      outcome = "errors";
      await saveInPlace(file, "version: 3\n");
      await waitFor("a second failed reload", () => failures.length === 2);
      assert.equal(failures[1]!.diagnostics[0]!.message, "issuer key is not usable");
      assert.equal(created.version, inForce);
      outcome = "ok";
      await saveInPlace(file, "version: 4\n");
      await waitFor("a reload", () => reloads.length === 1);
      assert.deepEqual(applied, [{ version: 1 }, { version: 4 }]);
    });

    it("keeps reloading when a reload listener throws", async () => {
      await writeFile(file, "version: 1\n");
      const created = await started();
      created.prependListener("reload", () => {
        throw new Error("listener bug");
      });
      await saveInPlace(file, "version: 2\n");
      await waitFor("a reload", () => applied.length === 2);
      await waitFor("the listener's error logged", () => logger.at("error").length === 1);
      assert.equal(logger.at("error")[0]!, "sockguard: a reload listener threw: listener bug");
      await saveInPlace(file, "version: 3\n");
      await waitFor("another reload", () => applied.length === 3);
    });
  });

  describe("the files the policy refers to", () => {
    /** A loader that also reads the file named by the policy's `ref`, like a `$ref`, reporting it when missing. */
    const loadWithReference = async (path: string): Promise<PolicyLoadResult> => {
      loads += 1;
      const base = await loadPolicy(path);
      const reference = (base.policy as unknown as { ref?: unknown } | null)?.ref;
      if (typeof reference !== "string") return base;
      const referenced = resolve(dirname(path), reference);
      const files = [base.files[0]!, referenced];
      try {
        const text = await readFile(referenced, "utf8");
        const version = createHash("sha256").update(base.version).update(text).digest("hex");
        return {
          ...base,
          policy: { ...base.policy!, schema: JSON.parse(text) },
          files,
          version,
        } as PolicyLoadResult;
      } catch {
        const missing = {
          ...diagnostic("error", `${reference} does not exist`),
          file: path,
          line: 1,
          col: 6,
        };
        return { diagnostics: [missing], files, version: base.version };
      }
    };

    it("starts working once a referenced file that did not exist is created", async () => {
      const schema = join(dir, "schemas", "message.json");
      await writeFile(file, "version: 1\n");
      await started({ load: loadWithReference });
      const loadsAfterStart = loads;
      await saveInPlace(file, "version: 2\nref: schemas/message.json\n");
      await waitFor("a failed reload", () => failures.length === 1);
      assert.deepEqual(failures[0]!.files, [file, schema]);
      assertHas(failures[0]!.diagnostics[0], { line: 1, col: 6 });
      assert.ok(
        logger.at("error")[0]!.includes("policy.yaml:1:6: error: schemas/message.json does not exist"),
      );
      // The failed load found a file it was not watching: one more load confirms what it read,
      // and reports nothing new.
      await waitFor("the confirming load", () => loads === loadsAfterStart + 2);
      await sleep(QUIET_MS);
      assert.equal(loads, loadsAfterStart + 2);
      assert.equal(failures.length, 1);
      await saveByRenameOverInNewDir(schema, '{"type":"string"}');
      await waitFor("a reload", () => reloads.length === 1);
      assert.equal(failures.length, 1);
      assertHas(applied.at(-1), { schema: { type: "string" } });
      assert.deepEqual(reloads[0]!.files, [file, schema]);

      // And an edit of the referenced file alone reloads too.
      await saveInPlace(schema, '{"type":"number"}');
      await waitFor("a second reload", () => reloads.length === 2);
      assertHas(applied.at(-1), { schema: { type: "number" } });
    });

    it("stops watching a file the policy no longer refers to", async () => {
      const schema = join(dir, "message.json");
      await writeFile(schema, '{"type":"string"}');
      await writeFile(file, "ref: message.json\n");
      const created = await started({ load: loadWithReference });
      assert.deepEqual(created.files, [file, schema]);
      await saveInPlace(file, "version: 2\n");
      await waitFor("a reload", () => reloads.length === 1);
      assert.deepEqual(created.files, [file]);
      const loadsBefore = loads;
      await saveInPlace(schema, '{"type":"number"}');
      await sleep(QUIET_MS);
      assert.equal(loads, loadsBefore);
    });
  });

  describe("one load at a time", () => {
    it("never runs two loads at once: forced reloads during a load queue exactly one more", async () => {
      await writeFile(file, "version: 1\n");
      let running = 0;
      let mostAtOnce = 0;
      const slowLoad = async (path: string): Promise<PolicyLoadResult> => {
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        try {
          await sleep(200);
          return await countedLoad(path);
        } finally {
          running -= 1;
        }
      };
      const created = await started({ load: slowLoad, watch: false });
      const loadsAfterStart = loads;
      const first = created.reload();
      await sleep(50);
      await writeFile(file, "version: 2\n");
      const queued = [created.reload(), created.reload(), created.reload()];
      const outcomes = await Promise.all([first, ...queued]);
      assert.equal(mostAtOnce, 1);
      assert.equal(loads - loadsAfterStart, 2);
      assert.equal(outcomes[1], outcomes[2]);
      assert.equal(outcomes[2], outcomes[3]);
      assertHas(outcomes[3], { status: "applied" });
      assert.deepEqual(applied.at(-1), { version: 2 });
    });

    it("runs one more load for changes made during a load, and ends with the last content", async () => {
      await writeFile(file, "version: 1\n");
      let running = 0;
      let mostAtOnce = 0;
      const slowLoad = async (path: string): Promise<PolicyLoadResult> => {
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        try {
          // Read first, then take long: the edits below land after the read.
          const result = await countedLoad(path);
          await sleep(700);
          return result;
        } finally {
          running -= 1;
        }
      };
      await started({ load: slowLoad });
      const loadsAfterStart = loads;
      await saveInPlace(file, "version: 2\n");
      await waitFor("the load to begin", () => running === 1);
      for (const version of [3, 4, 5]) {
        await saveInPlace(file, `version: ${version}\n`);
        await sleep(180);
      }
      await waitFor("version 5 in force", () => JSON.stringify(applied.at(-1)) === '{"version":5}');
      await sleep(QUIET_MS);
      assert.equal(mostAtOnce, 1);
      assertWithin(loads - loadsAfterStart, 2, 3);
    });

    it("ends a burst of 50 saves with the last content in force after few reloads", async () => {
      await writeFile(file, "save: 0\n");
      await started();
      for (let save = 1; save <= 50; save += 1) {
        if (save % 3 === 0) await saveLikeVim(file, `save: ${save}\n`);
        else await saveByRenameOver(file, `save: ${save}\n`);
        await sleep(2);
      }
      await waitFor("the last save in force", () => JSON.stringify(applied.at(-1)) === '{"save":50}');
      await sleep(QUIET_MS);
      assertWithin(reloads.length, 1, 5);
      assert.deepEqual(failures, []);
    });

    it("never puts the first half of a file written in two halves in force", async () => {
      await writeFile(file, "origins: [https://old.example]\n");
      await started();
      const fd = openSync(file, "w");
      try {
        writeSync(fd, "origins:\n  - https://a.example\n");
        await sleep(60);
        writeSync(fd, "  - https://b.example\n");
      } finally {
        closeSync(fd);
      }
      await waitFor("a reload", () => reloads.length === 1);
      await sleep(QUIET_MS);
      assert.deepEqual(applied, [
        { origins: ["https://old.example"] },
        { origins: ["https://a.example", "https://b.example"] },
      ]);
    });
  });

  describe("reload(), warnings and close()", () => {
    it("re-reads and applies on reload() even when nothing changed", async () => {
      await writeFile(file, "version: 1\n");
      const created = await started();
      const outcome = await created.reload();
      assertHas(outcome, { status: "applied", version: created.version });
      assert.equal(applied.length, 2);
      assert.equal(reloads.length, 1);
    });

    it("reports the loader's and apply's warnings with the reload, and logs each", async () => {
      await writeFile(file, "version: 1\n");
      const loaderWarning = {
        ...diagnostic("warning", "issuer 'legacy' is never used"),
        file,
        line: 3,
        col: 5,
      };
      const restartWarning = { ...diagnostic("warning", "websocket takes effect after a restart"), file };
      await started({
        load: async (path) => {
          const result = await countedLoad(path);
          return { ...result, diagnostics: [loaderWarning] };
        },
        apply: (result) => {
          applied.push(result.policy);
          return { warnings: [restartWarning] };
        },
      });
      await saveInPlace(file, "version: 2\n");
      await waitFor("a reload", () => reloads.length === 1);
      assert.deepEqual(reloads[0]!.warnings, [loaderWarning, restartWarning]);
      assert.ok(logger.at("warn").includes(`sockguard: ${file}:3:5: warning: issuer 'legacy' is never used`));
      assert.ok(
        logger.at("warn").includes(`sockguard: ${file}: warning: websocket takes effect after a restart`),
      );
    });

    it("applies nothing after close(), and resolves queued reloads as closed", async () => {
      await writeFile(file, "version: 1\n");
      let releaseLoad: (() => void) | undefined;
      let blockNext = false;
      const created = await started({
        load: async (path) => {
          if (blockNext) await new Promise<void>((resolveLoad) => (releaseLoad = resolveLoad));
          return countedLoad(path);
        },
        watch: false,
      });
      blockNext = true;
      await writeFile(file, "version: 2\n");
      const running = created.reload();
      const queued = created.reload();
      await waitFor("the load to be under way", () => releaseLoad !== undefined);
      const closing = created.close();
      releaseLoad!();
      await closing;
      assert.deepEqual(await running, { status: "closed" });
      assert.deepEqual(await queued, { status: "closed" });
      assert.deepEqual(await created.reload(), { status: "closed" });
      assert.deepEqual(applied, [{ version: 1 }]);
    });

    it("watches nothing with watch: false", async () => {
      await writeFile(file, "version: 1\n");
      await started({ watch: false });
      await saveInPlace(file, "version: 2\n");
      await sleep(QUIET_MS);
      assert.equal(applied.length, 1);
    });
  });
});

function assertWithin(actual: number, low: number, high: number): void {
  assert.ok(actual >= low && actual <= high, `expected ${actual} to be within ${low}..${high}`);
}

/** Asserts that `actual` has each of `expected`'s properties, deeply equal. */
function assertHas(actual: unknown, expected: Record<string, unknown>, message?: string): void {
  assert.ok(typeof actual === "object" && actual !== null, message ?? "expected an object");
  const picked = Object.fromEntries(
    Object.keys(expected).map((key) => [key, (actual as Record<string, unknown>)[key]]),
  );
  assert.deepEqual(picked, expected, message);
}

function diagnostic(severity: "error" | "warning", message: string): Diagnostic {
  return { file: "/nowhere", line: 0, col: 0, path: "", message, severity };
}

async function saveByRenameOverInNewDir(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await saveByRenameOver(path, text);
}
