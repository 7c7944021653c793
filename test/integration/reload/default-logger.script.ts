// Run in a child process by default-logger.test.ts: a real server guarded by sockguard() with no
// `logger` option, watching its policy file. A client is refused an event, the file is edited (a
// good edit, then a broken one), and everything is closed: what the default logger wrote is the
// child's stdout and stderr.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Server } from "socket.io";
import { io as connectClient } from "socket.io-client";
import { sockguard, type ReloadEvent, type ReloadFailedEvent } from "../../../src/index.js";
import { connected } from "../../helpers/clients.js";
import { closeSocketIo, createBareHttpServer, listenOnLoopback } from "../../helpers/socket-server.js";
import { nextEvent } from "../../helpers/wait.js";

const dir = process.argv[2];
if (dir === undefined) throw new Error("usage: default-logger.script.ts DIR");
const policyFile = join(dir, "policy.yaml");
const policy = (events: string): string =>
  `version: 1\nconnection: { allowMissingOrigin: true }\nnamespaces:\n  /:\n    auth: none\n    events: { ${events} }\n`;
await writeFile(policyFile, policy("hello: { args: [] }"));

const httpServer = createBareHttpServer();
const io = new Server(httpServer);
const guard = await sockguard(io, { policy: policyFile });
const port = await listenOnLoopback(httpServer);

// A refused event is a decision, not a log line.
const client = connectClient(`http://127.0.0.1:${port}/`, {
  forceNew: true,
  reconnection: false,
  transports: ["websocket"],
});
await connected(client, 10_000);
const reply: unknown = await client.timeout(3000).emitWithAck("not-listed");
if (typeof reply !== "object" || reply === null) throw new Error("the event was not refused with an ack");

const reloaded = nextEvent<[ReloadEvent]>(guard, "reload", 10_000);
await writeFile(policyFile, policy("hello: { args: [] }, bye: { args: [] }"));
await reloaded;

const failed = nextEvent<[ReloadFailedEvent]>(guard, "reloadFailed", 10_000);
await writeFile(policyFile, policy("hello: { args: [] }, bye: { argz: [] }"));
await failed;

client.disconnect();
await closeSocketIo(io);
await guard.close();
process.stdout.write("closed\n");
