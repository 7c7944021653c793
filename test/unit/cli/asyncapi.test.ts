/**
 * `sockguard asyncapi`: the AsyncAPI 3.0 document of a policy, parsed by @asyncapi/parser with zero
 * errors, holding a channel per namespace, receive operations (with ack replies) for events, send
 * operations for emits, message schemas with `$ref` files inlined, and the issuers as security schemes.
 */
import { expect } from "chai";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Parser } from "@asyncapi/parser";
import { parse } from "yaml";
import { Cleanup } from "../../helpers/cleanup.js";
import { runCliIn } from "../../helpers/cli-run.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

const POLICY = `version: 1
connection:
  origins: [https://chat.example.com]
  transports: [websocket]
  requireTls: true
auth:
  issuers:
    idp: { issuer: https://idp.example.com/, jwksUri: https://idp.example.com/jwks.json, audience: chat, algorithms: [ES256] }
    services: { issuer: urn:services, secret: "0123456789abcdef0123456789abcdef", audience: any, algorithms: [HS256] }
namespaces:
  /chat:
    issuers: [idp]
    handshake:
      query: { type: object, properties: { room: { type: string, maxLength: 8 } } }
    events:
      message:
        schema: { $ref: schemas/message.json }
        ack: required
        reply: { schema: { $ref: "schemas/message.json#/$defs/receipt" } }
      upload:
        args: [{ type: string }, { binary: { maxBytes: 1KiB } }]
    emits:
      message: { schema: { $ref: schemas/message.json } }
      presence: { args: [{ type: string }, { type: boolean }] }
  /:
    auth: none
    unknownEvents: allow
`;
const MESSAGE = JSON.stringify({
  type: "object",
  properties: { text: { type: "string", maxLength: 10 } },
  required: ["text"],
  $defs: { receipt: { type: "object", properties: { id: { type: "integer" } }, required: ["id"] } },
});

/** The parser's errors (severity 0) as `path: message`. */
async function parseErrors(text: string): Promise<string[]> {
  const { diagnostics } = await new Parser().parse(text);
  return diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join("/")}: ${d.message}`);
}

describe("sockguard asyncapi", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("writes an AsyncAPI 3.0 document the parser accepts with zero errors, events and emits as operations", async function () {
    this.timeout(30_000);
    const dir = await writePolicyFiles(cleanup, { "policy.yaml": POLICY, "schemas/message.json": MESSAGE });
    const run = await runCliIn(dir, ["asyncapi", "policy.yaml", "--out", "asyncapi.yaml"]);
    expect([run.status, run.stdout, run.stderr]).to.deep.equal([0, "wrote asyncapi.yaml\n", ""]);
    const text = await readFile(join(dir, "asyncapi.yaml"), "utf8");
    expect(await parseErrors(text)).to.deep.equal([]);

    const document = parse(text) as Record<string, Record<string, Record<string, unknown>>>;
    expect(document.asyncapi).to.equal("3.0.0");
    expect(Object.keys(document.servers!)).to.deep.equal(["websocket"]);
    expect(document.servers!.websocket).to.include({ protocol: "wss", pathname: "/socket.io" });
    expect(document.components!.securitySchemes).to.have.keys("idp", "services");
    const chat = document.channels!.chat as {
      address: string;
      messages: Record<string, { payload: unknown }>;
      bindings: unknown;
    };
    expect(chat.address).to.equal("/chat");
    expect(chat.messages.message!.payload).to.deep.equal({
      type: "object",
      properties: { text: { type: "string", maxLength: 10 } },
      required: ["text"],
    });
    expect(chat.messages.messageReply!.payload).to.deep.equal({
      type: "object",
      properties: { id: { type: "integer" } },
      required: ["id"],
    });
    expect(chat.bindings).to.have.nested.property("ws.query.properties.room.maxLength", 8);
    const operations = document.operations!;
    expect(operations.receiveChatMessage).to.deep.include({
      action: "receive",
      channel: { $ref: "#/channels/chat" },
      messages: [{ $ref: "#/channels/chat/messages/message" }],
      security: [{ $ref: "#/components/securitySchemes/idp" }],
      reply: {
        channel: { $ref: "#/channels/chat" },
        messages: [{ $ref: "#/channels/chat/messages/messageReply" }],
      },
    });
    expect(operations.sendChatPresence).to.deep.include({
      action: "send",
      messages: [{ $ref: "#/channels/chat/messages/presenceEmit" }],
    });
    expect(document.channels!.root).to.include({ address: "/" });
  });

  it("documents the demo policy with zero parser errors", async function () {
    this.timeout(30_000);
    const run = await runCliIn(ROOT, ["asyncapi", "policies/chat.yaml"]);
    expect(run.status).to.equal(0);
    expect(await parseErrors(run.stdout)).to.deep.equal([]);
  });
});
