/**
 * examples/cluster/: `node examples/cluster/start.js` starts a redis-server and two guarded chat
 * nodes, runs its demo (a revoke on one node reaches the other; status() lists both), and stops
 * everything it started on SIGTERM. Run as a user runs it, against the built package.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { requireRedisServer } from "../../helpers/redis-server.js";
import { delay, waitUntil } from "../../helpers/wait.js";

const START = fileURLToPath(new URL("../../../examples/cluster/start.js", import.meta.url));

/** True while a process with this id exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("examples/cluster: two guarded chat nodes and Redis, started with one command", function () {
  this.timeout(60_000);
  before(function () {
    requireRedisServer(this);
  });

  it("runs the demo (a revoke on one node disconnects and refuses the subject on both; status() lists both nodes) and stops everything on SIGTERM", async () => {
    const demo = spawn(process.execPath, [START], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    demo.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    demo.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => demo.once("exit", (code) => resolve(code)));
    try {
      await waitUntil(() => stdout.includes("demo: done") || demo.exitCode !== null, 45_000);
      assert.ok(stdout.includes("demo: done"), `stdout: ${stdout}\nstderr: ${stderr}`);
      const ports = [...stdout.matchAll(/^node (\d+): listening, policy (\w+)$/gm)];
      assert.equal(ports.length, 2, stdout);
      const listening = ports.map((match) => match[1]!);
      // alice connects to one node; the other revokes her.
      const second = /^demo: alice is connected to node (\d+)$/m.exec(stdout)?.[1];
      const first = listening.find((port) => port !== second);
      assert.ok(second !== undefined && listening.includes(second) && first !== undefined, stdout);
      assert.match(
        stdout,
        new RegExp(
          `demo: node ${first} revoked alice: \\{"disconnected":1,"nodes":2\\}; node ${second} told her: revoked`,
        ),
      );
      for (const port of [first, second])
        assert.match(stdout, new RegExp(`demo: alice reconnecting to node ${port}: revoked`));
      const listed = [...stdout.matchAll(/^ {2}(\S+) {2}policy (\w+) {2}sockets \d+$/gm)];
      assert.equal(listed.length, 2, stdout);
      assert.notEqual(listed[0]![1], listed[1]![1]);
      // Both nodes enforce the one policy file, and status() says which version.
      for (const entry of listed) assert.equal(entry[2], ports[0]![2]);

      const children = spawnSync("ps", ["-o", "pid=", "--ppid", String(demo.pid)], { encoding: "utf8" })
        .stdout.split("\n")
        .map((line) => Number(line.trim()))
        .filter((pid) => pid > 0);
      assert.equal(children.length, 3, "redis-server and two nodes");
      demo.kill("SIGTERM");
      assert.equal(await exited, 0);
      await waitUntil(() => children.every((pid) => !alive(pid)), 10_000);
    } finally {
      // start.js stops its redis-server and nodes on SIGTERM; SIGKILL only if it does not exit.
      if (demo.exitCode === null) {
        demo.kill("SIGTERM");
        await Promise.race([exited, delay(3_000)]);
      }
      if (demo.exitCode === null) demo.kill("SIGKILL");
    }
  });
});
