/**
 * `details[].instancePath` never carries a property name the client chose: a key the schema does
 * not name is a `*` in the ack, in the `decision` event, and nowhere in `sockguard:denied`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Decision } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply } from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";
import { delay } from "../../helpers/wait.js";

const POLICY = `version: 1
connection: { allowMissingOrigin: true, maxDenials: 1000/1m }
namespaces:
  /:
    auth: none
    events:
      labels:
        args: [{ type: object, additionalProperties: { type: string } }]
      profile:
        schema:
          type: object
          required: [name]
          properties:
            name: { type: string }
            extra: { type: object, additionalProperties: { type: array, items: { type: integer } } }
      patterned:
        schema: { type: object, patternProperties: { "^x-": { type: string } }, additionalProperties: false }
      shared:
        schema: { $ref: schemas/item.json }
`;

const ITEM_SCHEMA = JSON.stringify({
  $defs: { meta: { type: "object", additionalProperties: { type: "number" } } },
  type: "object",
  properties: {
    meta: { $ref: "#/$defs/meta" },
    "odd/name": { type: "object", additionalProperties: { type: "boolean" } },
  },
});

const HOSTILE = ["line\nbreak", "\u001b[31mred\u001b[0m", "with/slash", "tilde~0~1", "x".repeat(5000)];

describe("guard: failure details never echo client-chosen property names", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  async function start(): Promise<{
    client: ReturnType<typeof createClient>;
    decisions: Decision[];
    denied: unknown[];
  }> {
    const dir = await writePolicyFiles(cleanup, { "policy.yaml": POLICY, "schemas/item.json": ITEM_SCHEMA });
    const { url, decisions } = await startGuardedServer(cleanup, {
      policy: join(dir, "policy.yaml"),
      watch: false,
    });
    const client = createClient(cleanup, url, "/", { transports: ["websocket"] });
    const denied: unknown[] = [];
    client.on("sockguard:denied", (body: unknown) => denied.push(body));
    await connected(client);
    return { client, decisions, denied };
  }

  const cases: Array<[string, string, unknown, string]> = [];
  for (const name of HOSTILE) {
    const shown = JSON.stringify(name).slice(0, 30);
    cases.push([`additionalProperties, key ${shown}`, "labels", { [name]: 1 }, "/0/*"]);
    cases.push([
      `a nested object under a named property, key ${shown}`,
      "profile",
      { name: "n", extra: { [name]: [1, "two"] } },
      "/0/extra/*/1",
    ]);
    cases.push([`patternProperties, key ${shown}`, "patterned", { [`x-${name}`]: 5 }, "/0/*"]);
    cases.push([
      `a $ref'd schema file, key ${shown}`,
      "shared",
      { meta: { [name]: "not a number" } },
      "/0/meta/*",
    ]);
  }
  cases.push(["a named property is kept", "profile", { name: 5 }, "/0/name"]);
  cases.push([
    "a named property with a slash is kept, escaped",
    "shared",
    { "odd/name": { k: 1 } },
    "/0/odd~1name/*",
  ]);

  it("replaces each client-chosen key with * in the ack and the decision, and sends no details in sockguard:denied", async () => {
    const { client, decisions, denied } = await start();
    for (const [what, event, arg, expected] of cases) {
      const reply = (await emitWithReply(client, event, arg)) as {
        error: { code: string; details: Array<{ instancePath: string }> };
      };
      assert.equal(reply.error.code, "payload_invalid", what);
      assert.deepEqual(
        reply.error.details.map((d) => d.instancePath),
        [expected],
        what,
      );
      const decision = decisions.at(-1)!;
      assert.deepEqual(
        decision.details?.map((d) => d.instancePath),
        [expected],
        what,
      );
    }
    await delay(50);
    assert.ok(denied.length > 0);
    for (const body of denied)
      assert.deepEqual(Object.keys(body as object).sort(), ["code", "event", "message"]);
    const everything = JSON.stringify([decisions, denied]);
    for (const name of HOSTILE) assert.equal(everything.includes(JSON.stringify(name).slice(1, -1)), false);
  });
});
