// Run in a child process by connect-text-retention.test.ts: a guarded server takes namespace
// connects from raw WebSocket clients whose auth carries a marked string, then nothing else; after
// a full collection, a heap snapshot tells which strings still hold the marker. Prints one JSON
// line: how many strings hold the connect packet's text (`{"pad":"<marker>`) and how many the
// parsed auth value alone.
import { randomUUID } from "node:crypto";
import { getHeapSnapshot, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Server } from "socket.io";
import WebSocket from "ws";
import { sockguard } from "../../../src/index.js";
import { closeSocketIo, createBareHttpServer, listenOnLoopback } from "../../helpers/socket-server.js";

const CLIENTS = 5;
const marker = `MARK-${randomUUID()}`;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const httpServer = createBareHttpServer();
const io = new Server(httpServer);
const guard = await sockguard(io, {
  policy: {
    version: 1,
    connection: { allowMissingOrigin: true, transports: ["websocket"] },
    namespaces: { "/chat": { auth: "none", events: { ping: { args: [] } } } },
  },
});
let admitted = 0;
io.of("/chat").on("connection", () => (admitted += 1));
const port = await listenOnLoopback(httpServer);

/** A raw client: the engine's open, then `40/chat,{auth}` as the only message it sends. */
function connectRaw(index: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    ws.once("error", reject);
    ws.on("message", (data: Buffer) => {
      const text = data.toString();
      // Sent as bytes built here and dropped: the client keeps no string of its own.
      if (text.startsWith("0"))
        ws.send(Buffer.from(`40/chat,{"pad":"${marker}-${index}-${"x".repeat(2000)}"}`), { binary: false });
      else if (text.startsWith("40/chat,")) resolve(ws);
    });
  });
}

const clients: WebSocket[] = [];
for (let i = 0; i < CLIENTS; i += 1) clients.push(await connectRaw(i));
if (admitted !== CLIENTS) throw new Error(`expected ${CLIENTS} connects, saw ${admitted}`);
await new Promise((resolve) => setTimeout(resolve, 100));
gc();
gc();

const chunks: Buffer[] = [];
for await (const chunk of getHeapSnapshot()) chunks.push(chunk as Buffer);
const snapshot = JSON.parse(Buffer.concat(chunks).toString()) as { strings: string[] };
const packetTexts = snapshot.strings.filter((s) => s.includes(`{"pad":"${marker}`)).length;
const parsedValues = snapshot.strings.filter((s) => s.startsWith(`${marker}-`)).length;

for (const ws of clients) ws.close();
await closeSocketIo(io);
await guard.close();
process.stdout.write(`${JSON.stringify({ packetTexts, parsedValues })}\n`);
