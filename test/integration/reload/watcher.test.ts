import assert from "node:assert/strict";
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { mkdir, rename, rm, symlink, unlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  watchPolicyFiles,
  type PolicyFileWatcher,
  type WatchPolicyFilesOptions,
} from "../../../src/reload/watcher.js";
import {
  ConfigMapVolume,
  makeTempDir,
  removeTempDir,
  saveByRenameOver,
  saveInPlace,
  saveLikeVim,
  sleep,
  swapDirectoryLink,
  waitFor,
} from "./file-edits.js";

// Long enough past debounce + settle that a second, unwanted report would have arrived.
const QUIET_MS = 600;

/** Records every `onChange` with the time and whatever the file held at that moment. */
class ChangeLog {
  readonly times: number[] = [];
  readonly seen: string[] = [];
  readonly errors: Error[] = [];

  constructor(private readonly file?: string) {}

  get count(): number {
    return this.times.length;
  }

  onChange = (): void => {
    this.times.push(Date.now());
    this.seen.push(this.file === undefined ? "" : readOrAbsent(this.file));
  };

  onError = (error: Error): void => {
    this.errors.push(error);
  };

  waitForCount(count: number, timeoutMs = 5000): Promise<void> {
    return waitFor(`${count} change report(s), got ${this.count}`, () => this.count >= count, timeoutMs);
  }
}

function isRangeErrorAbout(option: string): (error: unknown) => boolean {
  return (error) => error instanceof RangeError && error.message.startsWith(`${option} must be`);
}

function readOrAbsent(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "<absent>";
  }
}

function assertWithin(actual: number, low: number, high: number): void {
  assert.ok(actual >= low && actual <= high, `expected ${actual} to be within ${low}..${high}`);
}

describe("watchPolicyFiles", function () {
  this.timeout(10000);
  let dir: string;
  let watcher: PolicyFileWatcher | undefined;

  beforeEach(async () => {
    dir = await makeTempDir();
  });

  afterEach(async () => {
    await watcher?.close();
    watcher = undefined;
    await removeTempDir(dir);
  });

  async function start(
    log: ChangeLog,
    files: readonly string[],
    options: Partial<WatchPolicyFilesOptions> = {},
  ): Promise<PolicyFileWatcher> {
    watcher = watchPolicyFiles({ files, onChange: log.onChange, onError: log.onError, ...options });
    await watcher.whenReady();
    return watcher;
  }

  async function expectExactlyOneChange(log: ChangeLog, expectedText: string): Promise<void> {
    await log.waitForCount(1);
    await sleep(QUIET_MS);
    assert.equal(log.count, 1);
    assert.equal(log.seen[0], expectedText);
    assert.deepEqual(log.errors, []);
  }

  describe("reports each way an editor or a deployment saves a file exactly once", () => {
    it("reports a write in place", async () => {
      const file = join(dir, "policy.yaml");
      await writeFile(file, "version: 1\n");
      const log = new ChangeLog(file);
      await start(log, [file]);
      await saveInPlace(file, "version: 2\n");
      await expectExactlyOneChange(log, "version: 2\n");
    });

    it("reports a rename-over save (write a temporary file, rename it over the policy)", async () => {
      const file = join(dir, "policy.yaml");
      await writeFile(file, "version: 1\n");
      const log = new ChangeLog(file);
      await start(log, [file]);
      await saveByRenameOver(file, "version: 2\n");
      await expectExactlyOneChange(log, "version: 2\n");
      // The watch survives the inode being replaced.
      await saveByRenameOver(file, "version: 3\n");
      await log.waitForCount(2);
      assert.equal(log.seen[1], "version: 3\n");
    });

    it("reports vim's backup-rename-write as one change", async () => {
      const file = join(dir, "policy.yaml");
      await writeFile(file, "version: 1\n");
      const log = new ChangeLog(file);
      await start(log, [file]);
      await saveLikeVim(file, "version: 2\n");
      await expectExactlyOneChange(log, "version: 2\n");
    });

    it("reports a Kubernetes ConfigMap update (the ..data symlink swap) once, and the next one too", async () => {
      const volume = await ConfigMapVolume.create(dir, { "policy.yaml": "version: 1\n" });
      const file = join(dir, "policy.yaml");
      const log = new ChangeLog(file);
      await start(log, [file]);
      await volume.update({ "policy.yaml": "version: 2\n" });
      await expectExactlyOneChange(log, "version: 2\n");
      await volume.update({ "policy.yaml": "version: 3\n" });
      await log.waitForCount(2);
      await sleep(QUIET_MS);
      assert.equal(log.count, 2);
      assert.equal(log.seen[1], "version: 3\n");
    });

    it("reports a ..data swap on its own, while the old timestamped directory still exists", async () => {
      const volume = await ConfigMapVolume.create(dir, { "policy.yaml": "version: 1\n" });
      const file = join(dir, "policy.yaml");
      const log = new ChangeLog(file);
      await start(log, [file]);
      await volume.update({ "policy.yaml": "version: 2\n" }, { keepOldDir: true });
      await expectExactlyOneChange(log, "version: 2\n");
    });

    it("reports a release that swaps a symbolic link to the whole policy directory", async () => {
      for (const release of ["release-1", "release-2"]) {
        await mkdir(join(dir, release));
        await writeFile(join(dir, release, "policy.yaml"), `${release}\n`);
      }
      await swapDirectoryLink(join(dir, "current"), "release-1");
      const file = join(dir, "current", "policy.yaml");
      const log = new ChangeLog(file);
      await start(log, [file]);
      await swapDirectoryLink(join(dir, "current"), "release-2");
      await expectExactlyOneChange(log, "release-2\n");
      // The new release directory is watched now, not the old one.
      await saveInPlace(join(dir, "release-1", "policy.yaml"), "stale\n");
      await sleep(QUIET_MS);
      assert.equal(log.count, 1);
      await saveInPlace(join(dir, "release-2", "policy.yaml"), "release-2 fixed\n");
      await log.waitForCount(2);
      assert.equal(log.seen[1], "release-2 fixed\n");
    });

    it("follows a symbolic link into another directory and reports saves of its target", async () => {
      await mkdir(join(dir, "shared"));
      await mkdir(join(dir, "app"));
      const target = join(dir, "shared", "policy.yaml");
      await writeFile(target, "version: 1\n");
      const file = join(dir, "app", "policy.yaml");
      await symlink("../shared/policy.yaml", file);
      const log = new ChangeLog(file);
      await start(log, [file]);
      await saveByRenameOver(target, "version: 2\n");
      await expectExactlyOneChange(log, "version: 2\n");
      // The target's inode was replaced: the watch follows the name, not the old inode.
      await saveByRenameOver(target, "version: 3\n");
      await log.waitForCount(2);
      await saveInPlace(target, "version: 4\n");
      await log.waitForCount(3);
      assert.deepEqual(log.seen, ["version: 2\n", "version: 3\n", "version: 4\n"]);
    });
  });

  describe("files that come and go", () => {
    it("reports a deletion, and the file again when it is recreated long after", async () => {
      const file = join(dir, "policy.yaml");
      await writeFile(file, "version: 1\n");
      const log = new ChangeLog(file);
      await start(log, [file]);
      await unlink(file);
      await log.waitForCount(1);
      assert.equal(log.seen[0], "<absent>");
      await sleep(QUIET_MS); // far longer than the debounce: the burst is over
      assert.equal(log.count, 1);
      await writeFile(file, "version: 2\n");
      await log.waitForCount(2);
      await sleep(QUIET_MS);
      assert.equal(log.count, 2);
      assert.equal(log.seen[1], "version: 2\n");
    });

    it("reports a file that does not exist yet when it is created", async () => {
      const file = join(dir, "later.json");
      const log = new ChangeLog(file);
      await start(log, [file]);
      await writeFile(file, "{}");
      await expectExactlyOneChange(log, "{}");
    });

    it("waits for directories that do not exist yet, then for the file inside them", async () => {
      const file = join(dir, "schemas", "chat", "message.json");
      const log = new ChangeLog(file);
      await start(log, [file]);
      await mkdir(join(dir, "schemas", "chat"), { recursive: true });
      await writeFile(file, '{"type":"object"}');
      await log.waitForCount(1);
      await waitFor("the file's content to be reported", () => log.seen.includes('{"type":"object"}'));
      // Now watched where it lives: a later edit is reported too.
      const before = log.count;
      await saveInPlace(file, '{"type":"string"}');
      await log.waitForCount(before + 1);
      assert.equal(log.seen.at(-1), '{"type":"string"}');
      assert.deepEqual(log.errors, []);
    });

    it("keeps watching when the file's directory is deleted and created again", async () => {
      const sub = join(dir, "policies");
      await mkdir(sub);
      const file = join(sub, "policy.yaml");
      await writeFile(file, "version: 1\n");
      const log = new ChangeLog(file);
      await start(log, [file]);
      await rm(sub, { recursive: true });
      await log.waitForCount(1);
      await sleep(QUIET_MS);
      const afterDeletion = log.count;
      await mkdir(sub);
      await writeFile(file, "version: 2\n");
      await log.waitForCount(afterDeletion + 1);
      await waitFor("the recreated file to be reported", () => log.seen.at(-1) === "version: 2\n");
      const afterRecreation = log.count;
      await saveInPlace(file, "version: 3\n");
      await log.waitForCount(afterRecreation + 1);
      assert.equal(log.seen.at(-1), "version: 3\n");
    });
  });

  describe("bursts and half-written files", () => {
    it("reports a burst of 50 saves a few times at most, the last time after the last write", async () => {
      const file = join(dir, "policy.yaml");
      await writeFile(file, "save: 0\n");
      const log = new ChangeLog(file);
      await start(log, [file]);
      let lastWriteAt = 0;
      for (let save = 1; save <= 50; save += 1) {
        if (save % 2 === 0) await saveByRenameOver(file, `save: ${save}\n`);
        else await saveInPlace(file, `save: ${save}\n`);
        lastWriteAt = Date.now();
        await sleep(2);
      }
      await log.waitForCount(1);
      await sleep(QUIET_MS);
      assertWithin(log.count, 1, 5);
      assert.ok(log.times.at(-1)! > lastWriteAt);
      assert.equal(log.seen.at(-1), "save: 50\n");
    });

    it("never reports between the two halves of a write paused for less than the quiet period", async () => {
      const file = join(dir, "policy.yaml");
      await writeFile(file, "old: true\n");
      const log = new ChangeLog(file);
      // The files must be still for the whole quiet period (150 ms here) before anything is reported.
      await start(log, [file], { debounceMs: 150, settleIntervalMs: 20 });
      const firstHalf = "origins:\n  - https://a.example\n";
      const secondHalf = "  - https://b.example\n";
      const fd = openSync(file, "w");
      try {
        writeSync(fd, firstHalf);
        await sleep(60);
        assert.equal(log.count, 0, "reported between the halves");
        writeSync(fd, secondHalf);
      } finally {
        closeSync(fd);
      }
      await expectExactlyOneChange(log, firstHalf + secondHalf);
    });

    it("does report a half-written file when the writer pauses longer than the quiet period (use atomic saves)", async () => {
      const file = join(dir, "policy.yaml");
      await writeFile(file, "old: true\n");
      const log = new ChangeLog(file);
      await start(log, [file], { debounceMs: 20, settleIntervalMs: 30 });
      const fd = openSync(file, "w");
      try {
        writeSync(fd, "origins:\n");
        await log.waitForCount(1);
        writeSync(fd, "  - https://a.example\n");
      } finally {
        closeSync(fd);
      }
      await log.waitForCount(2);
      assert.equal(log.seen[0], "origins:\n");
      assert.equal(log.seen.at(-1), "origins:\n  - https://a.example\n");
    });

    it("passes on each notification, and says when a burst has been quiet for half the quiet period, before the report", async () => {
      const file = join(dir, "policy.yaml");
      await writeFile(file, "old: true\n");
      const log = new ChangeLog(file);
      const quiet: { at: number; seen: string }[] = [];
      const events: number[] = [];
      await start(log, [file], {
        debounceMs: 400,
        onQuiet: () => quiet.push({ at: Date.now(), seen: readOrAbsent(file) }),
        onEvent: () => events.push(Date.now()),
      });
      let lastWriteAt = 0;
      for (let n = 1; n <= 5; n++) {
        await saveInPlace(file, `save: ${n}\n`);
        lastWriteAt = Date.now();
        await sleep(20);
      }
      await expectExactlyOneChange(log, "save: 5\n");
      assert.equal(quiet.length, 1);
      assert.ok(quiet[0]!.at >= lastWriteAt && quiet[0]!.at <= log.times[0]!);
      assert.equal(quiet[0]!.seen, "save: 5\n");
      // Every notification is passed on as it comes, each before the quiet period it starts.
      assert.ok(events.length >= 1);
      assert.ok(events.every((at) => at <= quiet[0]!.at));
    });

    it("reports a touch, which leaves the bytes alone: skipping it is the reloader's job", async () => {
      const file = join(dir, "policy.yaml");
      await writeFile(file, "version: 1\n");
      const log = new ChangeLog(file);
      await start(log, [file]);
      const later = new Date(Date.now() + 5000);
      await utimes(file, later, later);
      await expectExactlyOneChange(log, "version: 1\n");
    });
  });

  describe("setFiles", () => {
    it("starts watching the new files and stops watching the old ones", async () => {
      const oldFile = join(dir, "old.yaml");
      await mkdir(join(dir, "elsewhere"));
      const newFile = join(dir, "elsewhere", "new.yaml");
      await writeFile(oldFile, "old: 1\n");
      await writeFile(newFile, "new: 1\n");
      const log = new ChangeLog(newFile);
      const started = await start(log, [oldFile]);
      started.setFiles([newFile]);
      await started.whenReady();
      await saveInPlace(oldFile, "old: 2\n");
      await sleep(QUIET_MS);
      assert.equal(log.count, 0, "a change to a file no longer watched");
      await saveInPlace(newFile, "new: 2\n");
      await expectExactlyOneChange(log, "new: 2\n");
    });

    it("loses no event while it re-aims the watch of a directory", async () => {
      const policy = join(dir, "policy.yaml");
      const schema = join(dir, "schema.json");
      await writeFile(policy, "version: 1\n");
      const log = new ChangeLog(policy);
      const started = await start(log, [policy]);
      // Adding a name to a watched directory replaces that directory's watch.
      started.setFiles([policy, schema]);
      await saveInPlace(policy, "version: 2\n");
      await log.waitForCount(1);
      await started.whenReady();
      await writeFile(schema, "{}");
      await log.waitForCount(2);
      assert.equal(log.seen[0], "version: 2\n");
    });
  });

  describe("errors and closing", () => {
    it("hands an error thrown by onChange to onError and keeps watching", async () => {
      const file = join(dir, "policy.yaml");
      await writeFile(file, "version: 1\n");
      const errors: Error[] = [];
      let calls = 0;
      watcher = watchPolicyFiles({
        files: [file],
        onChange: () => {
          calls += 1;
          throw new Error("listener bug");
        },
        onError: (error) => errors.push(error),
      });
      await watcher.whenReady();
      await saveInPlace(file, "version: 2\n");
      await waitFor("the first report", () => calls === 1);
      await saveInPlace(file, "version: 3\n");
      await waitFor("the second report", () => calls === 2);
      assert.deepEqual(
        errors.map((error) => error.message),
        ["listener bug", "listener bug"],
      );
    });

    it("reports nothing after close(), even for a change already in its debounce", async () => {
      const file = join(dir, "policy.yaml");
      await writeFile(file, "version: 1\n");
      const log = new ChangeLog(file);
      const started = await start(log, [file]);
      await saveInPlace(file, "version: 2\n");
      await sleep(20);
      await started.close();
      await saveInPlace(file, "version: 3\n");
      await sleep(QUIET_MS);
      assert.equal(log.count, 0);
    });

    it("refuses a negative or non-finite debounce with a RangeError", () => {
      const onChange = (): void => undefined;
      assert.throws(
        () => watchPolicyFiles({ files: [], debounceMs: -1, onChange }),
        isRangeErrorAbout("debounceMs"),
      );
      assert.throws(
        () => watchPolicyFiles({ files: [], settleIntervalMs: Number.NaN, onChange }),
        isRangeErrorAbout("settleIntervalMs"),
      );
    });

    it("renames within the watched directory that do not touch the watched names report nothing", async () => {
      const file = join(dir, "policy.yaml");
      await writeFile(file, "version: 1\n");
      await writeFile(join(dir, "notes.txt"), "a");
      const log = new ChangeLog(file);
      await start(log, [file]);
      await writeFile(join(dir, "notes.txt"), "b");
      await rename(join(dir, "notes.txt"), join(dir, "notes.old"));
      await sleep(QUIET_MS);
      assert.equal(log.count, 0);
    });
  });
});
