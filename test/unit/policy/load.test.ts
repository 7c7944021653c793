/**
 * What `loadPolicy` and `checkPolicyObject` return: the checked policy, the files it depends on, its
 * version, and the resources (schema files, key files) compiling needs, all read from real files.
 */
import { expect } from "chai";
import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { checkPolicyObject, loadPolicy } from "../../../src/policy/load.js";
import { createEventAjv } from "../../../src/policy/ajv.js";
import { POLICY_OBJECT_FILE } from "../../../src/policy/diagnostic.js";
import { MAX_DIAGNOSTICS } from "../../../src/policy/diagnostic-collector.js";
import type { JsonObject } from "../../../src/policy/types.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";

const MESSAGE_SCHEMA = JSON.stringify({
  type: "object",
  properties: { text: { type: "string", maxLength: 500 }, room: { $ref: "defs/room.yaml" } },
  required: ["text"],
  additionalProperties: false,
});
const ROOM_SCHEMA = "# a room name\ntype: string\nmaxLength: 32\npattern: '^[a-z0-9-]+$'\n";

const POLICY_WITH_REFS = `version: 1
namespaces:
  /chat:
    auth: none
    events:
      message:
        schema: { $ref: schemas/message.json }
      join:
        args:
          - { $ref: "schemas/message.json#/properties/room" }
          - { type: object, properties: { n: { $ref: "#/$defs/n" } }, $defs: { n: { type: integer } } }
      upload:
        args: [{ binary: { maxBytes: 64KiB } }]
`;

describe("loadPolicy", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  /** Writes POLICY_WITH_REFS and its two schema files; returns their directory. */
  const writePolicyWithRefs = (): Promise<string> =>
    writePolicyFiles(cleanup, {
      "policy.yaml": POLICY_WITH_REFS,
      "schemas/message.json": MESSAGE_SCHEMA,
      "schemas/defs/room.yaml": ROOM_SCHEMA,
    });

  it("returns the policy without diagnostics, the files it read and a sha256 version", async () => {
    const dir = await writePolicyWithRefs();
    const result = await loadPolicy(join(dir, "policy.yaml"));
    expect(result.diagnostics).to.deep.equal([]);
    expect(result.policy?.version).to.equal(1);
    expect(result.files).to.deep.equal([
      join(dir, "policy.yaml"),
      join(dir, "schemas/message.json"),
      join(dir, "schemas/defs/room.yaml"),
    ]);
    expect(result.version).to.match(/^[0-9a-f]{64}$/);
    expect(result.resources?.baseDir).to.equal(dir);
  });

  it("gives each schema file its file URL as $id and rewrites relative $refs to absolute file URLs", async () => {
    const dir = await writePolicyWithRefs();
    const { policy, resources } = await loadPolicy(join(dir, "policy.yaml"));
    const messageUrl = pathToFileURL(join(dir, "schemas/message.json")).href;
    const roomUrl = pathToFileURL(join(dir, "schemas/defs/room.yaml")).href;
    expect([...resources!.schemas.keys()]).to.deep.equal([messageUrl, roomUrl]);
    const message = resources!.schemas.get(messageUrl)!;
    expect(message.$id).to.equal(messageUrl);
    expect((message.properties as JsonObject).room).to.deep.equal({ $ref: roomUrl });
    expect(resources!.schemas.get(roomUrl)).to.deep.include({ $id: roomUrl, type: "string", maxLength: 32 });

    const events = policy!.namespaces["/chat"]!.events!;
    expect(events.message!.schema).to.deep.equal({ $ref: messageUrl });
    const [room, counter] = events.join!.args!;
    expect(room).to.deep.equal({ $ref: `${messageUrl}#/properties/room` });
    expect(counter).to.deep.include({ properties: { n: { $ref: "#/$defs/n" } } });
    expect(events.upload!.args).to.deep.equal([{ binary: { maxBytes: "64KiB" } }]);
  });

  it("leaves resources complete: createEventAjv compiles every event schema without the disk", async () => {
    const dir = await writePolicyWithRefs();
    const { policy, resources } = await loadPolicy(join(dir, "policy.yaml"));
    await cleanup.run(); // the files are gone: compiling must not need them
    const ajv = createEventAjv(resources!.schemas);
    const events = policy!.namespaces["/chat"]!.events!;
    const message = ajv.compile(events.message!.schema as JsonObject);
    expect(message({ text: "hi", room: "lobby" })).to.equal(true);
    expect(message({ text: "hi", room: "Not A Room" })).to.equal(false);
    const room = ajv.compile(events.join!.args![0] as JsonObject);
    expect(room("lobby")).to.equal(true);
    expect(room(42)).to.equal(false);
  });

  it("lists a missing schema file in files, reported at its $ref", async () => {
    const dir = await writePolicyFiles(cleanup, {
      "policy.yaml":
        "version: 1\nnamespaces:\n  /:\n    auth: none\n    events:\n      a: { schema: { $ref: later.json } }\n",
    });
    const result = await loadPolicy(join(dir, "policy.yaml"));
    expect(result.policy).to.equal(undefined);
    expect(result.files).to.deep.equal([join(dir, "policy.yaml"), join(dir, "later.json")]);
    expect(result.diagnostics).to.have.length(1);
    expect(result.diagnostics[0]).to.deep.include({
      line: 6,
      col: 28,
      path: "/namespaces/~1/events/a/schema/$ref",
    });
  });

  it("changes the version when any file it depends on changes, and only then", async () => {
    const dir = await writePolicyWithRefs();
    const first = await loadPolicy(join(dir, "policy.yaml"));
    const again = await loadPolicy(join(dir, "policy.yaml"));
    expect(again.version).to.equal(first.version);
    await writeFile(join(dir, "schemas/defs/room.yaml"), ROOM_SCHEMA.replace("32", "16"));
    const changed = await loadPolicy(join(dir, "policy.yaml"));
    expect(changed.diagnostics).to.deep.equal([]);
    expect(changed.version).to.not.equal(first.version);
  });

  it("reads key files into resources.keyFiles by absolute path, and counts them in files and version", async () => {
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
    const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: "jwk" }), kid: "k1" }] });
    const dir = await writePolicyFiles(cleanup, {
      "policy.yaml": `version: 1
auth:
  issuers:
    pem: { issuer: "urn:a", publicKeyFile: keys/a.pem, audience: a, algorithms: [ES256] }
    set: { issuer: "urn:b", jwksFile: keys/b.jwks.json, audience: [b, c], algorithms: [ES256] }
namespaces:
  /: { issuers: [pem, set], events: {} }
`,
      "keys/a.pem": pem,
      "keys/b.jwks.json": jwks,
    });
    const result = await loadPolicy(join(dir, "policy.yaml"));
    expect(result.diagnostics).to.deep.equal([]);
    expect(result.files).to.deep.equal([
      join(dir, "policy.yaml"),
      join(dir, "keys/a.pem"),
      join(dir, "keys/b.jwks.json"),
    ]);
    expect(result.resources!.keyFiles.get(join(dir, "keys/a.pem"))).to.equal(pem);
    expect(result.resources!.keyFiles.get(join(dir, "keys/b.jwks.json"))).to.equal(jwks);
    const before = result.version;
    await writeFile(join(dir, "keys/b.jwks.json"), jwks + "\n");
    expect((await loadPolicy(join(dir, "policy.yaml"))).version).to.not.equal(before);
  });

  it("accepts an audience as a string, a list, or the literal any", async () => {
    const secret = "a".repeat(32);
    const dir = await writePolicyFiles(cleanup, {
      "policy.yaml": `version: 1
auth:
  issuers:
    one: { issuer: "urn:1", secret: ${secret}, audience: api, algorithms: [HS256] }
    list: { issuer: "urn:2", secret: ${secret}, audience: [api, admin], algorithms: [HS256] }
    any: { issuer: "urn:3", secret: ${secret}, audience: any, algorithms: [HS256] }
namespaces:
  /: { issuers: [one, list, any], events: {} }
`,
    });
    const result = await loadPolicy(join(dir, "policy.yaml"));
    expect(result.diagnostics).to.deep.equal([]);
    expect(result.policy!.auth!.issuers!.any!.audience).to.equal("any");
  });

  it("warns about a plain-http jwksUri on another host, and still loads", async () => {
    const dir = await writePolicyFiles(cleanup, {
      "policy.yaml": `version: 1
auth:
  issuers:
    idp: { issuer: "https://idp.example.com/", jwksUri: "http://idp.example.com/jwks.json", audience: a, algorithms: [RS256] }
namespaces:
  /: { events: {} }
`,
    });
    const result = await loadPolicy(join(dir, "policy.yaml"));
    expect(result.policy).to.be.an("object");
    expect(result.diagnostics).to.have.length(1);
    expect(result.diagnostics[0]).to.deep.include({ severity: "warning", line: 4, col: 57 });
  });

  it("never touches the network: no jwksUri is fetched and no http $ref followed", async () => {
    let requests = 0;
    const server = createServer((_request, response) => {
      requests += 1;
      response.end("{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanup.add(() => new Promise((resolve) => server.close(resolve)));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dir = await writePolicyFiles(cleanup, {
      "policy.yaml": `version: 1
auth:
  issuers:
    idp: { issuer: "${base}/", jwksUri: "${base}/jwks.json", audience: a, algorithms: [RS256] }
namespaces:
  /:
    events:
      message: { schema: { $ref: "${base}/message.json" } }
`,
    });
    const result = await loadPolicy(join(dir, "policy.yaml"));
    expect(result.diagnostics.map((d) => d.message)).to.deep.equal([
      "a $ref to http: is never fetched; save the schema beside the policy and refer to it by a relative path",
    ]);
    expect(requests).to.equal(0);
  });

  it("expands environment values in the policy only: defaults, set values, and $${env:...} as text", async () => {
    process.env.SOCKGUARD_TEST_PORT = "4100";
    cleanup.add(() => delete process.env.SOCKGUARD_TEST_PORT);
    delete process.env.SOCKGUARD_TEST_UNSET;
    const dir = await writePolicyFiles(cleanup, {
      "policy.yaml": `version: 1
connection:
  origins:
    - http://localhost:\${env:SOCKGUARD_TEST_PORT}
    - http://localhost:\${env:SOCKGUARD_TEST_UNSET:-3000}
namespaces:
  /:
    auth: none
    events:
      note: { schema: { const: "$\${env:SOCKGUARD_TEST_PORT}" } }
      ref: { schema: { $ref: s.json } }
`,
      "s.json": JSON.stringify({ const: "${env:SOCKGUARD_TEST_PORT}" }),
    });
    const result = await loadPolicy(join(dir, "policy.yaml"));
    expect(result.diagnostics).to.deep.equal([]);
    expect(result.policy!.connection!.origins).to.deep.equal([
      "http://localhost:4100",
      "http://localhost:3000",
    ]);
    expect(result.policy!.namespaces["/"]!.events!.note!.schema).to.deep.equal({
      const: "${env:SOCKGUARD_TEST_PORT}",
    });
    const [schemaFile] = result.resources!.schemas.values();
    expect(schemaFile!.const).to.equal("${env:SOCKGUARD_TEST_PORT}");
  });

  it("never echoes a secret in a diagnostic", async () => {
    process.env.SOCKGUARD_TEST_SECRET = "hunter2-is-short";
    cleanup.add(() => delete process.env.SOCKGUARD_TEST_SECRET);
    const dir = await writePolicyFiles(cleanup, {
      "policy.yaml": `version: 1
auth:
  issuers:
    a: { issuer: "urn:a", secret: "\${env:SOCKGUARD_TEST_SECRET}", audience: any, algorithms: [HS512] }
    b: { issuer: "urn:b", secret: written-inline-and-short, audience: any, algorithms: [HS256] }
namespaces:
  /: { issuers: [a, b], events: {} }
`,
    });
    const result = await loadPolicy(join(dir, "policy.yaml"));
    const messages = result.diagnostics.map((d) => d.message);
    expect(messages).to.deep.equal([
      "secret is 16 bytes; HS512 needs at least 64 (from environment variable SOCKGUARD_TEST_SECRET)",
      "secret is 24 bytes; HS256 needs at least 32",
    ]);
    for (const message of messages) {
      expect(message).to.not.include("hunter2");
      expect(message).to.not.include("written-inline");
    }
  });

  it("sorts diagnostics by file, then line and column", async () => {
    const dir = await writePolicyFiles(cleanup, {
      "policy.yaml": `version: 1
namespaces:
  /:
    auth: none
    events:
      b: { schema: { $ref: s.json } }
      a: { schema: { type: strng } }
connection:
  origins: [https://example.com/]
`,
      "s.json": '{\n  "type": "object",\n  "propertys": {}\n}\n',
    });
    const result = await loadPolicy(join(dir, "policy.yaml"));
    expect(result.diagnostics.map((d) => [d.file, d.line, d.col])).to.deep.equal([
      [join(dir, "policy.yaml"), 7, 28],
      [join(dir, "policy.yaml"), 9, 13],
      [join(dir, "s.json"), 3, 3],
    ]);
  });

  it("keeps at most MAX_DIAGNOSTICS diagnostics and says how many more there were", async () => {
    const keys = Array.from({ length: MAX_DIAGNOSTICS + 50 }, (_, index) => `  unknown${index}: 1`).join(
      "\n",
    );
    const dir = await writePolicyFiles(cleanup, {
      "policy.yaml": `version: 1\nnamespaces: { /: { auth: none, events: {} } }\nconnection:\n${keys}\n`,
    });
    const result = await loadPolicy(join(dir, "policy.yaml"));
    expect(result.diagnostics).to.have.length(MAX_DIAGNOSTICS + 1);
    expect(result.diagnostics.at(-1)!.message).to.equal("50 more problems not shown");
  });

  it("keeps __proto__ an ordinary event name and never pollutes a prototype", async () => {
    const dir = await writePolicyFiles(cleanup, {
      "policy.yaml":
        "version: 1\nnamespaces:\n  /:\n    auth: none\n    events:\n      __proto__: { args: [] }\n",
    });
    const result = await loadPolicy(join(dir, "policy.yaml"));
    expect(result.diagnostics).to.deep.equal([]);
    const events = result.policy!.namespaces["/"]!.events!;
    expect(Object.keys(events)).to.deep.equal(["__proto__"]);
    expect(Object.getPrototypeOf(events)).to.equal(Object.prototype);
    expect(({} as Record<string, unknown>).args).to.equal(undefined);
  });

  it("reports a missing policy file without throwing", async () => {
    const dir = await writePolicyFiles(cleanup, {});
    const result = await loadPolicy(join(dir, "nope.yaml"));
    expect(result.policy).to.equal(undefined);
    expect(result.files).to.deep.equal([join(dir, "nope.yaml")]);
    expect(result.diagnostics).to.deep.equal([
      {
        file: join(dir, "nope.yaml"),
        line: 1,
        col: 1,
        path: "",
        message: "cannot read the policy file: no such file",
        severity: "error",
      },
    ]);
  });
});

describe("checkPolicyObject", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("checks an object like a file, resolving $refs against baseDir, without modifying it", async () => {
    const dir = await writePolicyFiles(cleanup, {
      "schemas/m.json": JSON.stringify({ type: "string", maxLength: 9 }),
    });
    const input = {
      version: 1,
      namespaces: { "/": { auth: "none", events: { m: { schema: { $ref: "schemas/m.json" } } } } },
    };
    const snapshot = structuredClone(input);
    const result = await checkPolicyObject(input, dir);
    expect(result.diagnostics).to.deep.equal([]);
    expect(result.files).to.deep.equal([join(dir, "schemas/m.json")]);
    const url = pathToFileURL(join(dir, "schemas/m.json")).href;
    expect(result.policy!.namespaces["/"]!.events!.m!.schema).to.deep.equal({ $ref: url });
    expect(input).to.deep.equal(snapshot);
  });

  it("reports problems at 0:0 in <policy object>, located by path", async () => {
    const result = await checkPolicyObject({
      version: 1,
      namespaces: { "/": { auth: "none", events: { x: {} } } },
    });
    expect(result.diagnostics).to.deep.equal([
      {
        file: POLICY_OBJECT_FILE,
        line: 0,
        col: 0,
        path: "/namespaces/~1/events/x",
        message: "event x needs schema or args (args: [] for one without arguments)",
        severity: "error",
      },
    ]);
  });

  it("refuses values that are not JSON: a cycle, a Date, a function", async () => {
    const cyclic: Record<string, unknown> = { version: 1 };
    cyclic.namespaces = cyclic;
    const cases: [unknown, string, string][] = [
      [cyclic, "/namespaces/namespaces", "nesting is deeper than 64 levels"],
      [{ version: 1, namespaces: {}, when: new Date(0) }, "/when", "a Date is not a JSON value"],
      [
        { version: 1, namespaces: { "/": { auth: () => "none" } } },
        "/namespaces/~1/auth",
        "a function is not a JSON value",
      ],
    ];
    for (const [value, path, problem] of cases) {
      const result = await checkPolicyObject(value);
      expect(result.policy).to.equal(undefined);
      expect(result.diagnostics).to.have.length(1);
      expect(result.diagnostics[0]!.path.startsWith(path), result.diagnostics[0]!.path).to.equal(true);
      expect(result.diagnostics[0]!.message).to.include(problem);
    }
  });

  it("gives equal objects equal versions, and different objects different ones", async () => {
    const a = await checkPolicyObject({ version: 1, namespaces: { "/": { auth: "none", events: {} } } });
    const b = await checkPolicyObject({ version: 1, namespaces: { "/": { auth: "none", events: {} } } });
    const c = await checkPolicyObject({
      version: 1,
      namespaces: { "/": { auth: "none", unknownEvents: "allow" } },
    });
    expect(a.version).to.equal(b.version);
    expect(a.version).to.not.equal(c.version);
  });
});
