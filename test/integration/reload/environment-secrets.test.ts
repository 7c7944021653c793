/**
 * A value from `${env:...}` never leaves the guard through what it reports: the files a `reload`
 * event lists, the diagnostics of `reloadFailed`, and the rule (file) a decision names. The policy
 * names its schema file with an environment value, as a deployment that keeps a tenant's schema
 * name out of the repository would.
 */
import { expect } from "chai";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ReloadEvent, ReloadFailedEvent } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply } from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";

const SECRET = "tenant-4f9c2a7e-private-schema";
const VARIABLE = "SG_RELOAD_SECRET_SCHEMA";
const REDACTED = "<value from the environment>";

const POLICY = `version: 1
connection: { allowMissingOrigin: true }
namespaces:
  /:
    auth: none
    events:
      note: { schema: { $ref: "\${env:${VARIABLE}}.json" } }
`;
const SCHEMA = { type: "object", properties: { text: { type: "string", maxLength: 8 } }, required: ["text"] };

describe("environment values in what a reload reports", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  async function start() {
    process.env[VARIABLE] = SECRET;
    cleanup.add(() => Reflect.deleteProperty(process.env, VARIABLE));
    const dir = await writePolicyFiles(cleanup, {
      "policy.yaml": POLICY,
      [`${SECRET}.json`]: JSON.stringify(SCHEMA),
    });
    const server = await startGuardedServer(cleanup, {
      policy: join(dir, "policy.yaml"),
      watch: false,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    return { ...server, schemaFile: join(dir, `${SECRET}.json`), dir };
  }

  it("lists a schema file named from the environment with the value scrubbed in a reload event", async () => {
    const { guard, schemaFile, dir } = await start();
    const reloads: ReloadEvent[] = [];
    guard.on("reload", (event) => reloads.push(event));
    await writeFile(schemaFile, JSON.stringify({ ...SCHEMA, additionalProperties: false }));
    const outcome = await guard.reload();
    expect(outcome.ok && outcome.changed).to.equal(true);
    expect(reloads).to.have.length(1);
    expect(reloads[0]!.files).to.include(join(dir, `${REDACTED}.json`));
    expect(JSON.stringify(reloads[0])).to.not.include(SECRET);
  });

  it("scrubs it from a failed reload's diagnostics, their file included", async () => {
    const { guard, schemaFile } = await start();
    const failures: ReloadFailedEvent[] = [];
    guard.on("reloadFailed", (event) => failures.push(event));
    await writeFile(schemaFile, JSON.stringify({ type: "strin" }));
    const outcome = await guard.reload();
    expect(outcome.ok).to.equal(false);
    expect(failures).to.have.length(1);
    const [diagnostic] = failures[0]!.diagnostics;
    expect(diagnostic?.file).to.include(REDACTED);
    expect(JSON.stringify(failures[0]) + JSON.stringify(outcome)).to.not.include(SECRET);
  });

  it("names the schema file of a refused event's rule without the value", async () => {
    const { url, decisions } = await start();
    const client = createClient(cleanup, url, "/", { transports: ["websocket"] });
    await connected(client);
    const reply = (await emitWithReply(client, "note", { text: "far too long" })) as {
      error?: { code: string };
    };
    expect(reply.error?.code).to.equal("payload_invalid");
    const refusal = decisions.find((decision) => decision.code === "payload_invalid");
    expect(refusal?.rule?.file).to.include(REDACTED);
    expect(JSON.stringify(decisions)).to.not.include(SECRET);
  });
});
