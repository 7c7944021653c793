/**
 * Every policy in `policies/` loads with no error and no warning, starts with the editor's schema
 * comment, and `policies/chat.yaml` says what the chat demo relies on.
 */
import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { loadPolicy } from "../../../src/policy/load.js";
import { createEventAjv } from "../../../src/policy/ajv.js";
import type { JsonObject } from "../../../src/policy/types.js";

const POLICIES = fileURLToPath(new URL("../../../policies/", import.meta.url));
// `*.test.yaml` files are test suites, run by test/unit/cli/policy-test.test.ts.
const files = readdirSync(POLICIES).filter((name) => name.endsWith(".yaml") && !name.endsWith(".test.yaml"));

describe("the example policies", () => {
  it("include chat.yaml and minimal.yaml", () => {
    expect(files).to.include.members(["chat.yaml", "minimal.yaml"]);
  });

  for (const name of files) {
    it(`${name} loads with no diagnostics`, async () => {
      const result = await loadPolicy(join(POLICIES, name));
      expect(result.diagnostics).to.deep.equal([]);
      expect(result.policy).to.be.an("object");
    });

    it(`${name} starts with the schema comment of the YAML language server`, () => {
      const firstLine = readFileSync(join(POLICIES, name), "utf8").split("\n")[0];
      expect(firstLine).to.equal("# yaml-language-server: $schema=../schemas/policy.schema.json");
    });
  }

  describe("chat.yaml", () => {
    const previousPort = process.env.CHAT_PORT;
    afterEach(() => {
      if (previousPort === undefined) delete process.env.CHAT_PORT;
      else process.env.CHAT_PORT = previousPort;
    });

    it("builds its origins and issuer URLs from CHAT_PORT, 3000 by default", async () => {
      delete process.env.CHAT_PORT;
      const byDefault = (await loadPolicy(join(POLICIES, "chat.yaml"))).policy!;
      expect(byDefault.connection!.origins).to.deep.equal(["http://localhost:3000", "http://127.0.0.1:3000"]);
      process.env.CHAT_PORT = "4567";
      const onPort = (await loadPolicy(join(POLICIES, "chat.yaml"))).policy!;
      expect(onPort.connection!.origins).to.deep.equal(["http://localhost:4567", "http://127.0.0.1:4567"]);
      expect(onPort.auth!.issuers!.demo).to.deep.equal({
        issuer: "http://127.0.0.1:4567/demo-issuer",
        jwksUri: "http://127.0.0.1:4567/.well-known/jwks.json",
        audience: "chat-demo",
        algorithms: ["ES256"],
      });
    });

    it("guards /chat with scopes and three events, the message schema from policies/schemas/", async () => {
      delete process.env.CHAT_PORT;
      const { policy, resources, files: read } = await loadPolicy(join(POLICIES, "chat.yaml"));
      expect(policy!.connection).to.deep.include({
        transports: ["websocket", "polling"],
        maxPayload: "16KiB",
        maxDenials: "20/1m",
      });
      expect(policy!.auth!.tokenFrom).to.deep.equal(["auth.token"]);
      const chat = policy!.namespaces["/chat"]!;
      expect(chat).to.deep.include({ auth: "required", require: { scope: "chat:read" } });
      expect(Object.keys(chat.events!)).to.deep.equal(["message", "typing", "join"]);
      expect(chat.events!.message!.require).to.deep.equal({ scope: "chat:write" });
      expect(read).to.include(join(POLICIES, "schemas/message.json"));

      const ajv = createEventAjv(resources!.schemas);
      const message = ajv.compile(chat.events!.message!.schema as JsonObject);
      expect(message({ text: "hello" })).to.equal(true);
      expect(message({ text: "hello", room: "lobby-1" })).to.equal(true);
      expect(message({ text: "" })).to.equal(false);
      expect(message({ text: "x".repeat(501) })).to.equal(false);
      expect(message({ text: "hi", room: "Lobby" })).to.equal(false);
      expect(message({ text: "hi", extra: 1 })).to.equal(false);
      expect(chat.events!.message!.schema).to.deep.equal({
        $ref: pathToFileURL(join(POLICIES, "schemas/message.json")).href,
      });
      expect(ajv.compile(chat.events!.typing!.args![0] as JsonObject)(true)).to.equal(true);
      const joinRoom = ajv.compile(chat.events!.join!.schema as JsonObject);
      expect(joinRoom({ room: "lobby" })).to.equal(true);
      expect(joinRoom({ room: "lobby", more: 1 })).to.equal(false);
    });
  });
});
