/**
 * `sockguard types`: the generated declarations type a real server and a real socket.io-client app
 * under `tsc --strict` (the project's own TypeScript): right arguments compile, wrong ones do not
 * (each `@ts-expect-error` below must meet an error, or tsc reports the directive unused).
 */
import { expect } from "chai";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Cleanup } from "../../helpers/cleanup.js";
import { runCliIn } from "../../helpers/cli-run.js";
import { strictProblems } from "../../helpers/strict-program.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

const POLICY = `version: 1
auth:
  issuers:
    demo: { issuer: urn:demo, secret: "0123456789abcdef0123456789abcdef", audience: any, algorithms: [HS256] }
namespaces:
  /chat-room:
    handshake:
      auth: { type: object, properties: { token: { type: string } }, required: [token] }
    events:
      message:
        schema: { $ref: schemas/message.json }
        ack: required
        reply: { args: [{ $ref: "schemas/message.json#/$defs/receipt" }] }
      typing:
        args: [{ type: boolean }]
        ack: forbidden
      upload:
        args: [{ binary: { maxBytes: 1KiB } }]
    emits:
      message: { schema: { $ref: schemas/message.json } }
      presence: { args: [{ type: string }, { type: boolean }] }
`;
const MESSAGE = JSON.stringify({
  type: "object",
  properties: { text: { type: "string" }, tags: { type: "array", items: { enum: ["a", "b"] } } },
  required: ["text"],
  additionalProperties: false,
  $defs: { receipt: { type: "object", properties: { id: { type: "integer" } }, required: ["id"] } },
});

const SERVER_APP = `import { Server } from "socket.io";
import type { ChatRoomClientToServerEvents, ChatRoomServerToClientEvents, SocketData } from "./events.js";

const io = new Server<ChatRoomClientToServerEvents, ChatRoomServerToClientEvents, {}, SocketData>();
io.of("/chat-room").on("connection", (socket) => {
  socket.on("message", (message, ack) => {
    const text: string = message.text;
    ack({ id: text.length });
    // @ts-expect-error: the reply's id is an integer
    ack({ id: "1" });
  });
  // @ts-expect-error: typing forbids an ack, so its handler gets none
  socket.on("typing", (_typing: boolean, _ack: () => void) => undefined);
  socket.on("upload", (data) => void data.byteLength);
  socket.emit("presence", "ann", true);
  // @ts-expect-error: presence is (string, boolean)
  socket.emit("presence", "ann", "yes");
  socket.emit("message", { text: "hi", tags: ["a"] });
  // @ts-expect-error: tags hold only a or b
  socket.emit("message", { text: "hi", tags: ["c"] });
  // @ts-expect-error: undeclared emits do not compile where emits are declared
  socket.emit("undeclared");
  const issuer: "demo" | undefined = socket.data.sockguard?.issuer;
  const expiresAt: number | undefined = socket.data.sockguard?.expiresAt;
  void [issuer, expiresAt];
});
`;

const CLIENT_APP = `import { io, type Socket } from "socket.io-client";
import type { ChatRoomClientToServerEvents, ChatRoomServerToClientEvents } from "./events.js";

const socket: Socket<ChatRoomServerToClientEvents, ChatRoomClientToServerEvents> = io("/chat-room");
socket.emit("message", { text: "hi" }, (receipt) => void receipt.id.toFixed());
// @ts-expect-error: message requires an ack
socket.emit("message", { text: "hi" });
// @ts-expect-error: text is a string
socket.emit("message", { text: 1 }, () => undefined);
socket.emit("typing", true);
// @ts-expect-error: typing takes a boolean
socket.emit("typing", "yes");
socket.emit("upload", new Uint8Array(4));
socket.on("presence", (who, online) => void [who.toUpperCase(), online === true]);
// @ts-expect-error: presence's first argument is a string
socket.on("presence", (who: number) => void who);
`;

describe("sockguard types", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("generates declarations that type a server and a socket.io-client app under tsc --strict", async function () {
    this.timeout(60_000);
    const policyDir = await writePolicyFiles(cleanup, {
      "policy.yaml": POLICY,
      "schemas/message.json": MESSAGE,
    });
    // Inside the repository, so the app resolves socket.io and socket.io-client from its node_modules.
    await mkdir(join(ROOT, ".tmp"), { recursive: true });
    const appDir = await mkdtemp(join(ROOT, ".tmp", "types-"));
    cleanup.add(() => rm(appDir, { recursive: true, force: true }));
    const run = await runCliIn(policyDir, ["types", "policy.yaml", "--out", join(appDir, "events.ts")]);
    expect(run.stderr).to.equal("");
    expect(run.status).to.equal(0);
    const generated = await readFile(join(appDir, "events.ts"), "utf8");
    expect(generated).to.include("export interface ChatRoomClientToServerEvents");
    expect(generated).to.include("export interface SocketData");
    await writeFile(join(appDir, "server.ts"), SERVER_APP);
    await writeFile(join(appDir, "client.ts"), CLIENT_APP);

    const problems = strictProblems([join(appDir, "server.ts"), join(appDir, "client.ts")], appDir, {
      lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
    });
    expect(problems).to.deep.equal([]);
  });

  it("writes to stdout without --out, reports an invalid policy as validate does (exit 1), and takes one file", async () => {
    const dir = await writePolicyFiles(cleanup, {
      "policy.yaml": "version: 1\nnamespaces:\n  /:\n    auth: none\n    events: { ping: { args: [] } }\n",
      "bad.yaml": "version: 1\nnamespaces:\n  /:\n    auth: none\n    emits: { x: {} }\n",
    });
    const printed = await runCliIn(dir, ["types", "policy.yaml"]);
    expect(printed.status).to.equal(0);
    expect(printed.stdout).to.include("export interface RootClientToServerEvents");
    const bad = await runCliIn(dir, ["types", "bad.yaml", "--out", "never.ts"]);
    expect(bad.status).to.equal(1);
    expect(bad.stdout).to.include("bad.yaml:5:14: error: emit x needs schema or args");
    expect((await runCliIn(dir, ["types"])).status).to.equal(2);
    expect((await runCliIn(dir, ["types", "missing.yaml"])).status).to.equal(2);
  });
});
