/**
 * The guard's start-up check of the socket.io stack it runs with: a real guarded server, and an
 * advisory file written by the test whose ranges name (or spare) the versions actually installed
 * here, read from the packages that socket.io itself resolves.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Cleanup } from "../../helpers/cleanup.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";
import { waitUntil } from "../../helpers/wait.js";

const POLICY = { version: 1 as const, namespaces: { "/": { auth: "none" as const, events: {} } } };

/** The version of `name` that a module in `fromDir` requires. */
function installedVersion(fromDir: string, name: string): { version: string; dir: string } {
  let dir = dirname(createRequire(join(fromDir, "package.json")).resolve(name));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name: string;
        version: string;
      };
      if (manifest.name === name) return { version: manifest.version, dir };
    } catch {
      // not the package root yet
    }
    dir = dirname(dir);
  }
}

const socketIo = installedVersion(process.cwd(), "socket.io");
const engineIo = installedVersion(socketIo.dir, "engine.io");
const parser = installedVersion(socketIo.dir, "socket.io-parser");

function advisoryFile(advisories: { package: string; affected: string; id: string }[]): string {
  return JSON.stringify({
    format: 1,
    compiled: "2026-12-02",
    sources: [{ name: "the test", url: "https://example.test/" }],
    advisories: advisories.map((a) => ({
      ids: [a.id],
      package: a.package,
      affected: [a.affected],
      fixed: ["99.0.0"],
      severity: "high",
      summary: `a flaw of ${a.package}`,
      source: "https://example.test/advisory",
    })),
  });
}

describe("guard: the start-up check of the socket.io stack", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  const logger = () => {
    const warnings: string[] = [];
    return {
      warnings,
      info: () => undefined,
      warn: (m: string) => void warnings.push(m),
      error: () => undefined,
    };
  };

  it("warns once per advisory that names the engine.io and socket.io-parser this server runs with, and only those", async () => {
    const dir = await writePolicyFiles(cleanup, {
      "advisories.json": advisoryFile([
        { package: "engine.io", affected: `<=${engineIo.version}`, id: "CVE-2099-00001" },
        { package: "socket.io-parser", affected: `<=${parser.version}`, id: "CVE-2099-00002" },
        { package: "engine.io", affected: `<${engineIo.version}`, id: "CVE-2099-00003" },
        { package: "socket.io-client", affected: "*", id: "CVE-2099-00004" },
      ]),
    });
    const log = logger();
    await startGuardedServer(cleanup, {
      policy: POLICY,
      logger: log,
      advisories: join(dir, "advisories.json"),
    });
    await waitUntil(() => log.warnings.length >= 2, 3000, "the stack warnings");
    assert.deepEqual(log.warnings.map((w) => w.replace(/ at \S+: /, " at …: ")).sort(), [
      `sockguard: engine.io ${engineIo.version} at …: CVE-2099-00001 (high): a flaw of engine.io; fixed in 99.0.0 (advisories compiled 2026-12-02)`,
      `sockguard: socket.io-parser ${parser.version} at …: CVE-2099-00002 (high): a flaw of socket.io-parser; fixed in 99.0.0 (advisories compiled 2026-12-02)`,
    ]);
  });

  it("starts anyway when the advisory file cannot be used, and says the stack was not checked", async () => {
    const log = logger();
    const server = await startGuardedServer(cleanup, {
      policy: POLICY,
      logger: log,
      advisories: join(process.cwd(), "no-such-advisories.json"),
    });
    assert.ok(server.url);
    await waitUntil(() => log.warnings.length >= 1, 3000, "the warning");
    assert.match(
      log.warnings[0]!,
      /^sockguard: the socket\.io stack was not checked against advisories: .*no-such-advisories\.json: no such file$/,
    );
  });
});
