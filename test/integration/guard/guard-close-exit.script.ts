// Run in a child process by guard-close-exit.test.ts: a real server guarded by sockguard(), watching
// a policy file whose issuer's keys come from a JWKS server on loopback; one client connects with a
// token, then the client, the server, the guard and the JWKS server are closed, and the process must
// exit on its own (no watcher, timer or connection left).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Server } from "socket.io";
import { io as connectClient } from "socket.io-client";
import { sockguard, type ReloadEvent } from "../../../src/index.js";
import { connected } from "../../helpers/clients.js";
import { JwksServer } from "../../helpers/jwks-server.js";
import { closeSocketIo, createBareHttpServer, listenOnLoopback } from "../../helpers/socket-server.js";
import { claimsFor, createSigningKey, signWith } from "../../helpers/tokens.js";
import { nextEvent } from "../../helpers/wait.js";

const dir = process.argv[2];
if (dir === undefined) throw new Error("usage: guard-close-exit.script.ts DIR");
const IDP = "https://idp.example.test/";

const key = await createSigningKey("RS256", "key-1");
const jwks = await JwksServer.start([key.jwk]);
const policy = (events: string): string =>
  [
    "version: 1",
    "connection: { allowMissingOrigin: true }",
    "auth:",
    "  issuers:",
    `    idp: { issuer: "${IDP}", jwksUri: "${jwks.url}", audience: chat-api, algorithms: [RS256] }`,
    "namespaces:",
    "  /chat:",
    `    events: { ${events} }`,
  ].join("\n") + "\n";
const policyFile = join(dir, "policy.yaml");
await writeFile(policyFile, policy("hello: { args: [] }"));

const httpServer = createBareHttpServer();
const io = new Server(httpServer);
const guard = await sockguard(io, { policy: policyFile });
io.of("/chat").on("connection", (socket) => socket.on("hello", (ack: (r: string) => void) => ack("hi")));
const port = await listenOnLoopback(httpServer);

// The watcher is live: an edit is picked up without a call to reload().
const reloaded = nextEvent<[ReloadEvent]>(guard, "reload", 10_000);
await writeFile(policyFile, policy("hello: { args: [] }, bye: { args: [] }"));
await reloaded;

const client = connectClient(`http://127.0.0.1:${port}/chat`, {
  forceNew: true,
  reconnection: false,
  transports: ["websocket"],
  auth: { token: await signWith(key, claimsFor(IDP, "chat-api")) },
});
await connected(client, 10_000);
if ((await client.timeout(3000).emitWithAck("hello")) !== "hi") throw new Error("the event was not handled");
if (jwks.requests !== 1) throw new Error(`expected one JWKS request, got ${jwks.requests}`);

client.disconnect();
await closeSocketIo(io);
await guard.close();
await jwks.close();
process.stdout.write("closed\n");
