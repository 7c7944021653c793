import assert from "node:assert/strict";
import { join } from "node:path";
import { inspect } from "node:util";
import { compilePolicy } from "../../../src/compile/compile.js";
import { createCompileContext } from "../../../src/compile/auth.js";
import { PolicyCompileError } from "../../../src/compile/compile-error.js";
import { checkPolicyObject, loadPolicy } from "../../../src/policy/load.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";

const POLICY_YAML = `version: 1
connection:
  origins: [https://chat.example.com]
namespaces:
  /chat:
    auth: none
    events:
      message:
        schema: { $ref: schemas/message.json }
      typing:
        args: [{ type: boolean }]
  /admin:
    auth: none
    unknownEvents: allow
`;

const MESSAGE_SCHEMA = JSON.stringify({
  type: "object",
  properties: { text: { $ref: "#/$defs/text" } },
  required: ["text"],
  additionalProperties: false,
  $defs: { text: { type: "string", maxLength: 10 } },
});

describe("compile: compilePolicy", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());
  const context = createCompileContext();
  after(() => context.remoteKeySets.close());

  async function loadFixture(): Promise<Awaited<ReturnType<typeof loadPolicy>>> {
    const dir = await writePolicyFiles(cleanup, {
      "policy.yaml": POLICY_YAML,
      "schemas/message.json": MESSAGE_SCHEMA,
    });
    const loaded = await loadPolicy(join(dir, "policy.yaml"));
    assert.deepEqual(
      loaded.diagnostics.filter((d) => d.severity === "error"),
      [],
    );
    return loaded;
  }

  it("compiles a loaded policy, resolving schema files referenced with $ref", async () => {
    const loaded = await loadFixture();
    const compiled = compilePolicy(loaded, context);
    assert.equal(compiled.version, loaded.version);
    assert.deepEqual(compiled.files, loaded.files);
    assert.deepEqual([...compiled.namespaces.keys()], ["/chat", "/admin"]);
    const message = compiled.namespaces.get("/chat")!.events.get("message")!;
    assert.equal(message.args[0]!.validate!({ text: "hello" }), true);
    assert.equal(message.args[0]!.validate!({ text: "far too long a text" }), false);
    assert.equal(compiled.namespaces.get("/admin")!.unknownEvents, "allow");
    assert.equal(compiled.namespaces.get("/chat")!.unknownEvents, "reject");
    assert.ok(Object.isFrozen(compiled));
  });

  it("gives each rule as plain values, however it is read (located on first read)", async () => {
    const loaded = await loadFixture();
    const compiled = compilePolicy(loaded, context);
    const rule = compiled.namespaces.get("/chat")!.events.get("message")!.rules.event;
    const file = loaded.files[0]!;
    const expected = {
      file,
      ...loaded.resources!.locators!.policy.locate(rule.path, "key"),
      path: rule.path,
    };
    assert.match(rule.path, /^\/namespaces\/~1chat\/events\/message$/);
    assert.ok(expected.line > 1);
    assert.deepStrictEqual(rule, expected);
    assert.deepStrictEqual(JSON.parse(JSON.stringify(rule)), expected);
    assert.deepStrictEqual({ ...rule }, expected);
    assert.equal(inspect(rule), inspect(expected));
    assert.ok(Object.isFrozen(rule));
  });

  it("compiles the same inputs twice (a fresh ajv each time: schema ids never clash on reload)", async () => {
    const loaded = await loadFixture();
    const first = compilePolicy(loaded, context);
    const second = compilePolicy(loaded, context);
    assert.notEqual(first.namespaces.get("/chat"), second.namespaces.get("/chat"));
  });

  it("refuses a load result that carries errors", async () => {
    const loaded = await checkPolicyObject({ version: 2, namespaces: {} });
    assert.throws(() => compilePolicy(loaded, context), PolicyCompileError);
  });

  it("refuses, rather than widens, a namespace that does not say which of several issuers it trusts", () => {
    const secret = "s".repeat(32);
    const loaded = {
      policy: {
        version: 1 as const,
        auth: {
          issuers: {
            a: { issuer: "urn:a", secret, audience: "any", algorithms: ["HS256"] },
            b: { issuer: "urn:b", secret, audience: "any", algorithms: ["HS256"] },
          },
        },
        namespaces: { "/": { auth: "required" as const } },
      },
      resources: { schemas: new Map(), keyFiles: new Map(), baseDir: process.cwd() },
      diagnostics: [],
      files: [],
      version: "v",
    };
    assert.throws(() => compilePolicy(loaded, context), /list the issuers/);
  });

  it("refuses, rather than ignores, a namespace require under auth: none (no token is read there)", () => {
    const loaded = {
      policy: {
        version: 1 as const,
        namespaces: { "/": { auth: "none" as const, require: { role: "admin" } } },
      },
      resources: { schemas: new Map(), keyFiles: new Map(), baseDir: process.cwd() },
      diagnostics: [],
      files: [],
      version: "v",
    };
    assert.throws(() => compilePolicy(loaded, context), /auth: none/);
  });

  it("lets the handshake through without Origin when some namespace allows it, and marks that namespace", async () => {
    const compile = async (namespaces: Record<string, { auth: "none"; allowMissingOrigin?: boolean }>) =>
      compilePolicy(await checkPolicyObject({ version: 1, namespaces }), context);
    const perNamespace = await compile({
      "/service": { auth: "none", allowMissingOrigin: true },
      "/chat": { auth: "none" },
    });
    assert.equal(perNamespace.connection.allowMissingOrigin, false);
    assert.equal(perNamespace.connection.handshakeAllowsMissingOrigin, true);
    assert.equal(perNamespace.namespaces.get("/service")?.allowMissingOrigin, true);
    assert.equal(perNamespace.namespaces.get("/chat")?.allowMissingOrigin, false);
    const nowhere = await compile({ "/chat": { auth: "none", allowMissingOrigin: false } });
    assert.equal(nowhere.connection.handshakeAllowsMissingOrigin, false);
  });
});
