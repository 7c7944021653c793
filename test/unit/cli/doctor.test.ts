/**
 * `sockguard doctor`, run for real: a child process of this Node.js running src/cli/main.ts on
 * fixture node_modules trees written by the test, with its exit status and output checked.
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Cleanup } from "../../helpers/cleanup.js";
import { writeInstall } from "../../helpers/installed-packages.js";

const CLI = fileURLToPath(new URL("../../../src/cli/main.ts", import.meta.url));
// By URL: the fixture installs in temporary directories have no tsx to resolve `--import tsx` from.
const TSX = import.meta.resolve("tsx");

interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

function doctor(args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", TSX, CLI, "doctor", ...args],
      { cwd, timeout: 15_000, env: { ...process.env, NO_COLOR: "1" } },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") reject(error);
        else resolve({ status: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
  });
}

const LOCK = { "package-lock.json": "{}" };
const ENGINE_IO_FINDING =
  "engine.io 6.6.5 at node_modules/engine.io: CVE-2026-59725 (high): polling connection exhaustion: HTTP requests with an invalid content type are never closed; fixed in 6.6.7";

describe("sockguard doctor", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("exits 1 and prints one line per finding, naming the version that fixes it", async () => {
    const root = await writeInstall(cleanup, { "node_modules/engine.io": "6.6.5" }, LOCK);
    const run = await doctor([], root);
    assert.equal(run.status, 1, run.stderr);
    assert.equal(
      run.stdout,
      `${ENGINE_IO_FINDING}\n1 package checked against advisories compiled 2026-12-02: 1 vulnerable package (1 finding)\n`,
    );
  });

  it("exits 0 for patched copies", async () => {
    const root = await writeInstall(
      cleanup,
      {
        "node_modules/socket.io": "4.8.3",
        "node_modules/engine.io": "6.6.9",
        "node_modules/ws": "8.21.0",
        "node_modules/socket.io-parser": "4.2.6",
      },
      LOCK,
    );
    const run = await doctor([], root);
    assert.deepEqual(run, {
      status: 0,
      stdout: "4 packages checked against advisories compiled 2026-12-02: no problems\n",
      stderr: "",
    });
  });

  it("finds a vulnerable nested copy beside a patched top-level one, each at its own path", async () => {
    const root = await writeInstall(
      cleanup,
      {
        "node_modules/ws": "8.21.0",
        "node_modules/engine.io/node_modules/ws": "8.17.0",
        "node_modules/engine.io": "6.6.9",
      },
      LOCK,
    );
    const run = await doctor([], root);
    assert.equal(run.status, 1);
    const lines = run.stdout.trim().split("\n");
    assert.deepEqual(
      lines.slice(0, -1).map((line) => line.replace(/: (CVE-[0-9-]+) .*; (fixed in .*)$/, " $1 $2")),
      [
        "ws 8.17.0 at node_modules/engine.io/node_modules/ws CVE-2024-37890 fixed in 8.17.1",
        "ws 8.17.0 at node_modules/engine.io/node_modules/ws CVE-2026-45736 fixed in 8.20.1",
        "ws 8.17.0 at node_modules/engine.io/node_modules/ws CVE-2026-48779 fixed in 8.21.0",
      ],
    );
  });

  it("takes the directory as an argument and shows paths relative to the working directory", async () => {
    const root = await writeInstall(cleanup, { "app/node_modules/engine.io": "6.6.5" });
    await writeFile(join(root, "app/package-lock.json"), "{}");
    const run = await doctor(["app"], root);
    assert.equal(run.status, 1);
    assert.match(run.stdout, /^engine\.io 6\.6\.5 at app\/node_modules\/engine\.io: CVE-2026-59725 /);
  });

  it("warns about a missing lock file, several socket.io copies and an unsupported socket.io, exiting 0 unless --strict", async () => {
    const root = await writeInstall(cleanup, {
      "node_modules/socket.io": "4.8.3",
      "node_modules/legacy/node_modules/socket.io": "4.7.5",
    });
    const run = await doctor([], root);
    assert.equal(run.status, 0);
    assert.deepEqual(run.stdout.trim().split("\n"), [
      "warning: no lock file (package-lock.json, npm-shrinkwrap.json, pnpm-lock.yaml, yarn.lock, bun.lock): each install may resolve different versions of the stack; commit one and install with npm ci",
      "warning: 2 copies of socket.io (4.7.5 at node_modules/legacy/node_modules/socket.io, 4.8.3 at node_modules/socket.io): the guard protects the one its server was created from; deduplicate them (npm dedupe)",
      "warning: socket.io 4.7.5 at node_modules/legacy/node_modules/socket.io is outside the range sockguard supports (~4.8.0): the guard may not see every request the way this version reads it",
      "2 packages checked against advisories compiled 2026-12-02: 3 warnings",
    ]);
    const strict = await doctor(["--strict"], root);
    assert.equal(strict.status, 1);
    assert.match(strict.stdout, /3 warnings \(--strict fails on warnings\)\n$/);
  });

  it("--format json lists every copy, finding and warning", async () => {
    const root = await writeInstall(cleanup, { "node_modules/engine.io": "6.6.5" });
    const run = await doctor(["--format", "json"], root);
    assert.equal(run.status, 1);
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.deepEqual(report, {
      vulnerable: true,
      strict: false,
      advisories: { compiled: "2026-12-02" },
      packages: [{ name: "engine.io", version: "6.6.5", path: "node_modules/engine.io" }],
      findings: [
        {
          package: "engine.io",
          version: "6.6.5",
          path: "node_modules/engine.io",
          ids: ["GHSA-r635-g3xr-vw7x", "CVE-2026-59725"],
          severity: "high",
          summary:
            "polling connection exhaustion: HTTP requests with an invalid content type are never closed",
          affected: [">=4.1.0 <6.6.7"],
          fixed: ["6.6.7"],
          upgradeTo: ["6.6.7"],
          source: "https://github.com/socketio/socket.io/commit/fc11285e14964c2132d122164bf130c355f60671",
        },
      ],
      warnings: [
        {
          code: "no_lock_file",
          message:
            "no lock file (package-lock.json, npm-shrinkwrap.json, pnpm-lock.yaml, yarn.lock, bun.lock): each install may resolve different versions of the stack; commit one and install with npm ci",
          paths: [],
        },
      ],
    });
  });

  it("--format github prints an ::error annotation per finding and a ::warning per lint", async () => {
    const root = await writeInstall(cleanup, { "node_modules/engine.io": "6.6.5" });
    const run = await doctor(["--format", "github"], root);
    assert.equal(run.status, 1);
    const lines = run.stdout.trim().split("\n");
    assert.equal(lines[0], `::error title=sockguard doctor::${ENGINE_IO_FINDING}`);
    assert.match(lines[1]!, /^::warning title=sockguard doctor::no lock file /);
    assert.equal(lines.length, 3);
  });

  it("--advisories reads a newer file in the same format", async () => {
    const root = await writeInstall(cleanup, { "node_modules/ws": "8.23.0" }, LOCK);
    const newer = {
      format: 1,
      compiled: "2027-01-15",
      sources: [{ name: "a newer compilation", url: "https://example.test/advisories" }],
      advisories: [
        {
          ids: ["CVE-2027-00001"],
          package: "ws",
          affected: ["<8.24.0"],
          fixed: ["8.24.0"],
          severity: "low",
          summary: "a future flaw",
          source: "https://example.test/CVE-2027-00001",
        },
      ],
    };
    await writeFile(join(root, "newer.json"), JSON.stringify(newer));
    const run = await doctor(["--advisories", "newer.json"], root);
    assert.equal(run.status, 1, run.stderr);
    assert.equal(
      run.stdout,
      "ws 8.23.0 at node_modules/ws: CVE-2027-00001 (low): a future flaw; fixed in 8.24.0\n1 package checked against advisories compiled 2027-01-15: 1 vulnerable package (1 finding)\n",
    );
  });

  it("exits 2 for an advisory file that is not in the format, a directory with no node_modules, and bad usage", async () => {
    const root = await writeInstall(
      cleanup,
      { "node_modules/ws": "8.23.0" },
      {
        "bad.json": JSON.stringify({
          format: 2,
          compiled: "2026-01-01",
          sources: [{ name: "x", url: "https://example.test" }],
          advisories: [],
        }),
      },
    );
    const bad = await doctor(["--advisories", "bad.json"], root);
    assert.equal(bad.status, 2);
    assert.equal(bad.stdout, "");
    assert.match(bad.stderr, /^sockguard doctor: .*bad\.json: \/format must be equal to constant\n$/);

    const empty = await doctor(["node_modules/ws"], root);
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /has no node_modules: install the app's dependencies first/);

    assert.equal((await doctor(["a", "b"], root)).status, 2);
    assert.equal((await doctor(["--format", "xml"], root)).status, 2);
    assert.equal((await doctor(["missing-dir"], root)).status, 2);
  });
});
