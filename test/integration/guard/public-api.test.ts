/**
 * What the package exports as values (PolicyLoadError, the decision codes), and what a policy
 * object's relative paths resolve against (`baseDir`, else the working directory at start).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  DENIAL_CODES,
  DENIAL_MESSAGES,
  PolicyLoadError,
  sockguard,
  type DenialCode,
  type Policy,
} from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply } from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";
import { startTestServer } from "../../helpers/socket-server.js";

/** A policy object whose one event's schema is a relative `$ref` to schemas/note.json. */
const NOTE_POLICY: Policy = {
  version: 1,
  connection: { allowMissingOrigin: true },
  namespaces: { "/": { auth: "none", events: { note: { schema: { $ref: "schemas/note.json" } } } } },
};
const NOTE_SCHEMA = JSON.stringify({ type: "string", maxLength: 5 });

describe("the public API", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("rejects a policy that does not load with a PolicyLoadError instance carrying its diagnostics", async () => {
    const dir = await writePolicyFiles(cleanup, { "policy.yaml": "version: 1\nnamspaces: {}\n" });
    const { io } = await startTestServer(cleanup);
    const failure: unknown = await sockguard(io, { policy: join(dir, "policy.yaml"), watch: false }).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(failure instanceof PolicyLoadError, `not a PolicyLoadError: ${String(failure)}`);
    assert.ok(failure instanceof Error);
    assert.equal(failure.name, "PolicyLoadError");
    assert.ok(failure.diagnostics.some((d) => d.severity === "error" && d.message.includes("namspaces")));
  });

  it("exports the decision codes and their messages as values", () => {
    const code: DenialCode = "payload_invalid";
    assert.ok(DENIAL_CODES.includes(code));
    assert.ok(DENIAL_CODES.includes("origin_not_allowed"));
    assert.deepEqual([...DENIAL_CODES].sort(), Object.keys(DENIAL_MESSAGES).sort());
    for (const each of DENIAL_CODES) assert.equal(typeof DENIAL_MESSAGES[each], "string");
  });

  it("resolves a policy object's relative $ref against baseDir", async () => {
    const dir = await writePolicyFiles(cleanup, { "schemas/note.json": NOTE_SCHEMA });
    const { url } = await startGuardedServer(cleanup, { policy: NOTE_POLICY, baseDir: dir });
    const client = createClient(cleanup, url);
    await connected(client);
    assert.deepEqual(await emitWithReply(client, "note", "too long for five"), {
      error: {
        code: "payload_invalid",
        message: DENIAL_MESSAGES.payload_invalid,
        details: [{ instancePath: "/0", keyword: "maxLength" }],
      },
    });
  });

  it("without baseDir, resolves a policy object's $ref against the working directory when sockguard() is called", async () => {
    const dir = await writePolicyFiles(cleanup, { "schemas/note.json": NOTE_SCHEMA });
    const { io } = await startTestServer(cleanup);
    const original = process.cwd();
    const guard = await (async () => {
      process.chdir(dir);
      try {
        return await sockguard(io, { policy: NOTE_POLICY });
      } finally {
        process.chdir(original);
      }
    })();
    cleanup.add(() => guard.close());
    // The directory was fixed at start: a reload after the working directory moved still finds the file.
    const outcome = await guard.reload();
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
  });

  it("refuses a policy object whose relative $ref does not exist under baseDir, naming the file", async () => {
    const dir = await writePolicyFiles(cleanup, { "elsewhere.json": NOTE_SCHEMA });
    const { io } = await startTestServer(cleanup);
    const failure: unknown = await sockguard(io, { policy: NOTE_POLICY, baseDir: dir }).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(failure instanceof PolicyLoadError);
    assert.ok(
      failure.diagnostics.some((d) => d.message.includes("note.json")),
      failure.message,
    );
  });

  it("refuses baseDir with a policy file, whose paths resolve against its own directory", async () => {
    const dir = await writePolicyFiles(cleanup, { "policy.yaml": "version: 1\nnamespaces: {}\n" });
    const { io } = await startTestServer(cleanup);
    await assert.rejects(
      sockguard(io, { policy: join(dir, "policy.yaml"), baseDir: dir }),
      (error: unknown) =>
        error instanceof TypeError && /baseDir applies to a policy object/.test(error.message),
    );
  });
});
