/**
 * A new user's install, for real: `npm pack` the repository, install the tarball and socket.io into
 * a fresh `"type": "module"` app, import sockguard there, guard a real server and run
 * `npx sockguard validate`; then the same from a git URL (a `git clone` of HEAD, so only what is
 * committed), where the `prepare` build must produce dist/. Packages come from the npm cache the
 * project's own install filled (`--prefer-offline`: an install by lockfile caches the tarballs but
 * not every package document a fresh resolution reads).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const APP_SCRIPT = fileURLToPath(new URL("guarded-app.js", import.meta.url));
const COMMAND_TIMEOUT_MS = 120_000;

/** The child's environment: the parent's, without the `npm_*` settings an `npm test` run leaves in it. */
const NPM_ENV: NodeJS.ProcessEnv = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith("npm_")),
  ),
  npm_config_audit: "false",
  npm_config_fund: "false",
  npm_config_update_notifier: "false",
};

interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command` in `cwd`; resolves with its exit code and output whatever the code. */
async function command(cwd: string, file: string, args: readonly string[]): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, env: NPM_ENV, timeout: COMMAND_TIMEOUT_MS });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== "number") throw error;
    return { code: failed.code, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

async function succeeds(cwd: string, file: string, args: readonly string[]): Promise<string> {
  const result = await command(cwd, file, args);
  assert.equal(result.code, 0, `${file} ${args.join(" ")} failed:\n${result.stderr}\n${result.stdout}`);
  return result.stdout;
}

/** The version of socket.io the repository has installed: certainly in the npm cache. */
async function installedSocketIoVersion(): Promise<string> {
  const manifest = JSON.parse(
    await readFile(join(REPO_ROOT, "node_modules/socket.io/package.json"), "utf8"),
  ) as {
    version: string;
  };
  return manifest.version;
}

/** A fresh app directory: a `"type": "module"` package.json, the app script, a schema and two policies. */
async function freshApp(parent: string, name: string): Promise<string> {
  const app = join(parent, name);
  await mkdir(join(app, "schemas"), { recursive: true });
  await writeFile(join(app, "package.json"), JSON.stringify({ name, private: true, type: "module" }));
  await copyFile(APP_SCRIPT, join(app, "app.js"));
  await writeFile(join(app, "schemas/note.json"), JSON.stringify({ type: "string", maxLength: 100 }));
  await writeFile(join(app, "good.yaml"), "version: 1\nnamespaces:\n  /:\n    auth: none\n    events: {}\n");
  await writeFile(join(app, "broken.yaml"), "version: 1\nnamspaces: {}\n");
  return app;
}

interface AppReport {
  readonly allowedStatus?: number;
  readonly foreignStatus?: number;
  readonly foreignBody?: string;
  readonly policyLoadError?: boolean;
  readonly codes?: string[];
  readonly error?: string;
}

async function runApp(app: string): Promise<AppReport> {
  const result = await command(app, process.execPath, ["app.js"]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}") as AppReport;
}

/** The installed app imports sockguard, guards a real server with it, and runs its command. */
async function assertWorkingInstall(app: string): Promise<void> {
  const report = await runApp(app);
  assert.equal(report.error, undefined);
  assert.equal(report.allowedStatus, 200);
  assert.equal(report.foreignStatus, 403);
  assert.match(report.foreignBody ?? "", /origin_not_allowed/);
  assert.equal(
    report.policyLoadError,
    true,
    "a broken policy rejects with an instance of the exported PolicyLoadError",
  );
  assert.ok(report.codes?.includes("payload_invalid"), "DENIAL_CODES is a value of the package");

  const good = await command(app, "npx", ["--no", "sockguard", "validate", "good.yaml"]);
  assert.equal(good.code, 0, good.stdout + good.stderr);
  const broken = await command(app, "npx", ["--no", "sockguard", "validate", "broken.yaml"]);
  assert.equal(broken.code, 1, broken.stdout + broken.stderr);
  assert.match(broken.stdout, /broken\.yaml:2:1: error: unknown key "namspaces"/);
}

describe("installing sockguard into a fresh app", function () {
  this.timeout(300_000);
  let workDir = "";
  let socketIo = "";

  before(async function () {
    const npm = await command(REPO_ROOT, "npm", ["--version"]).catch(() => undefined);
    if (npm?.code !== 0) {
      console.warn(
        "\n  !!! npm is not available: the install tests (pack, tarball and git installs) are SKIPPED !!!\n",
      );
      this.skip();
    }
    workDir = await mkdtemp(join(tmpdir(), "sockguard-install-"));
    socketIo = await installedSocketIoVersion();
  });
  after(() => (workDir ? rm(workDir, { recursive: true, force: true }) : undefined));

  let tarball = "";
  let packedFiles: string[] = [];

  it("packs (building dist/ first) a tarball with LICENSE, dist, the CLI, schemas and docs, and no tests, sources or maps", async () => {
    const out = await succeeds(REPO_ROOT, "npm", ["pack", "--json", "--pack-destination", workDir]);
    const [packed] = JSON.parse(out.slice(out.indexOf("["))) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    assert.ok(packed);
    tarball = join(workDir, packed.filename);
    packedFiles = packed.files.map((file) => file.path);
    for (const required of [
      "LICENSE",
      "README.md",
      "package.json",
      "dist/index.js",
      "dist/index.d.ts",
      "dist/cli/main.js",
      "schemas/policy.schema.json",
      "docs/policy.md",
      "policies/chat.yaml",
    ]) {
      assert.ok(packedFiles.includes(required), `${required} is not in the tarball`);
    }
    const unwanted = packedFiles.filter(
      (path) =>
        /^(test|bench|src|examples|node_modules|\.tmp|\.ci|coverage)\//.test(path) || path.endsWith(".map"),
    );
    assert.deepEqual(unwanted, []);
  });

  it("ships every file its README and docs link to, so their links resolve where they are read", async () => {
    assert.ok(packedFiles.length > 0, "the pack test ran first");
    const documents = packedFiles.filter((path) => path.endsWith(".md"));
    assert.ok(documents.includes("README.md") && documents.includes("docs/policy.md"));
    const missing: string[] = [];
    for (const document of documents) {
      const text = await readFile(join(REPO_ROOT, document), "utf8");
      for (const [, target = ""] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target) || target.startsWith("#")) continue;
        const path = posix.normalize(posix.join(posix.dirname(document), target.split("#")[0] ?? ""));
        const shipped =
          packedFiles.includes(path) ||
          packedFiles.some((file) => file.startsWith(`${path.replace(/\/$/, "")}/`));
        if (!shipped) missing.push(`${document} → ${target}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  it("installs from the tarball: the app imports sockguard, guards its server, and runs npx sockguard validate", async () => {
    assert.ok(tarball, "the pack test ran first");
    const app = await freshApp(workDir, "tarball-app");
    await succeeds(app, "npm", ["install", "--prefer-offline", tarball, `socket.io@${socketIo}`]);
    await assertWorkingInstall(app);
  });

  it("refuses, naming the version, a Socket.IO whose installed package says 4.7.5 (relabelled: the cache has no real 4.7)", async () => {
    const app = join(workDir, "tarball-app");
    const manifestPath = join(app, "node_modules/socket.io/package.json");
    const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as { version: string };
    await writeFile(manifestPath, JSON.stringify({ ...manifest, version: "4.7.5" }));
    const report = await runApp(app);
    assert.match(
      report.error ?? "",
      /^sockguard: Socket\.IO 4\.7\.5 is not supported \(sockguard supports socket\.io ~4\.8\.0/,
    );
  });

  it("installs from a git URL: prepare builds dist/ in the clone, and the app works as from the tarball", async () => {
    const clone = join(workDir, "clone");
    await succeeds(workDir, "git", ["clone", "--quiet", REPO_ROOT, clone]);
    const app = await freshApp(workDir, "git-app");
    await succeeds(app, "npm", [
      "install",
      "--prefer-offline",
      `git+${pathToFileURL(clone).href}`,
      `socket.io@${socketIo}`,
    ]);
    const installed = JSON.parse(
      await readFile(join(app, "node_modules/sockguard/package.json"), "utf8"),
    ) as {
      name: string;
    };
    assert.equal(installed.name, "sockguard");
    await readFile(join(app, "node_modules/sockguard/dist/index.js"));
    await assertWorkingInstall(app);
  });
});
