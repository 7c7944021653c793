import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Server } from "socket.io";
import { sockguard, type Logger } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply } from "../../helpers/clients.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";
import { closeSocketIo, createBareHttpServer, listenOnLoopback } from "../../helpers/socket-server.js";

const policy = (transports: string, events: string): string =>
  [
    "version: 1",
    `connection: { allowMissingOrigin: true, transports: [${transports}] }`,
    "namespaces:",
    "  /chat:",
    "    auth: none",
    `    events: { ${events} }`,
  ].join("\n") + "\n";

const RESTART_WARNING =
  "sockguard: the policy allows websocket, but the engine started without it; WebSocket connections are refused until the server restarts";

/** A logger that keeps every line, by level. */
function collectingLogger(): Logger & { readonly lines: Array<[level: string, message: string]> } {
  const lines: Array<[string, string]> = [];
  return {
    lines,
    info: (message: string) => void lines.push(["info", message]),
    warn: (message: string) => void lines.push(["warn", message]),
    error: (message: string) => void lines.push(["error", message]),
  };
}

describe("guard: a reload that needs a restart", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("adding websocket when the engine started without it: the rest applies, and a warning names the restart", async () => {
    const dir = await writePolicyFiles(cleanup, {
      "policy.yaml": policy("polling", "say: { args: [{ type: string }] }"),
    });
    const policyFile = join(dir, "policy.yaml");
    const logger = collectingLogger();
    // Guarded before it is attached, so the engine starts with the policy's transports: polling only.
    const io = new Server();
    cleanup.addFirst(() => closeSocketIo(io));
    const guard = await sockguard(io, { policy: policyFile, watch: false, logger });
    cleanup.add(() => guard.close());
    const httpServer = createBareHttpServer();
    io.attach(httpServer);
    const url = `http://127.0.0.1:${await listenOnLoopback(httpServer)}`;
    io.of("/chat").on("connection", (socket) =>
      socket.onAny((...args: unknown[]) => {
        const ack = args.at(-1);
        if (typeof ack === "function") (ack as (reply: string) => void)(`handled ${String(args[0])}`);
      }),
    );
    assert.deepEqual(io.engine.opts.transports, ["polling"]);
    assert.deepEqual(
      logger.lines.filter(([level]) => level !== "info"),
      [],
    );

    await writeFile(
      policyFile,
      policy("polling, websocket", "say: { args: [{ type: string }] }, shout: { args: [] }"),
    );
    const outcome = await guard.reload();
    assert.equal(outcome.ok && outcome.changed, true);

    // Reported once, as a warning that names the restart.
    assert.deepEqual(
      logger.lines.filter(([level]) => level !== "info"),
      [["warn", RESTART_WARNING]],
    );
    // Everything else is in force: the new event is admitted on a live polling socket.
    const polling = createClient(cleanup, url, "/chat", { transports: ["polling"] });
    await connected(polling);
    assert.equal(await emitWithReply(polling, "shout"), "handled shout");
    // And, as the warning says, WebSocket connections still fail until a restart.
    const websocket = createClient(cleanup, url, "/chat", { transports: ["websocket"] });
    await assert.rejects(connected(websocket), /websocket error/);
  });
});
