/**
 * Whole-value `${env:...}` on keys that take a boolean or a number, through loadPolicy on real files
 * with real environment variables: read as the type the schema takes there, or reported with the
 * variable's name (never its value).
 */
import { expect } from "chai";
import { join } from "node:path";
import { loadPolicy } from "../../../src/policy/load.js";
import { formatDiagnostic } from "../../../src/policy/diagnostic.js";
import { expectationAt } from "../../../src/policy/schema-expectations.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";

const NAMESPACES =
  "namespaces:\n  /: { auth: none, events: { a: { args: [{ binary: { maxBytes: '${env:SG_T_BYTES:-1024}' } }] } } }\n";

describe("loadPolicy: typed environment values", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  function setEnv(values: Record<string, string>): void {
    for (const [name, value] of Object.entries(values)) {
      process.env[name] = value;
      cleanup.add(() => Reflect.deleteProperty(process.env, name));
    }
  }

  async function load(policy: string): Promise<Awaited<ReturnType<typeof loadPolicy>> & { lines: string[] }> {
    const dir = await writePolicyFiles(cleanup, { "policy.yaml": policy });
    const result = await loadPolicy(join(dir, "policy.yaml"));
    return { ...result, lines: result.diagnostics.map((d) => formatDiagnostic(d, { relativeTo: dir })) };
  }

  it("reads booleans, numbers, sizes and durations a whole-value reference spells exactly", async () => {
    setEnv({ SG_T_TLS: "true", SG_T_PAYLOAD: "65536", SG_T_TOLERANCE: "30", SG_T_BYTES: "2048" });
    const result = await load(
      "version: 1\nconnection:\n  requireTls: ${env:SG_T_TLS}\n  allowMissingOrigin: ${env:SG_T_UNSET_ORIGIN:-false}\n" +
        "  maxPayload: ${env:SG_T_PAYLOAD}\nauth: { clockTolerance: '${env:SG_T_TOLERANCE}' }\n" +
        NAMESPACES,
    );
    expect(result.lines).to.deep.equal([]);
    expect(result.policy!.connection).to.deep.equal({
      requireTls: true,
      allowMissingOrigin: false,
      maxPayload: 65536,
    });
    expect(result.policy!.auth!.clockTolerance).to.equal(30);
    expect(result.policy!.namespaces["/"]!.events!.a!.args).to.deep.equal([{ binary: { maxBytes: 2048 } }]);
  });

  it("keeps strings where the schema takes a string: sizes with units, claims, text around a reference", async () => {
    setEnv({ SG_T_PAYLOAD: "64KiB", SG_T_ROLE: "1", SG_T_PORT: "3000" });
    const result = await load(
      "version: 1\nconnection:\n  maxPayload: ${env:SG_T_PAYLOAD}\n  origins: ['http://localhost:${env:SG_T_PORT}']\n" +
        "namespaces:\n  /: { auth: optional, require: { role: '${env:SG_T_ROLE}' }, events: {} }\n" +
        "auth: { issuers: { a: { issuer: urn:a, jwksUri: 'https://a.example/jwks', audience: any, algorithms: [RS256] } } }\n",
    );
    expect(result.lines).to.deep.equal([]);
    expect(result.policy!.connection!.maxPayload).to.equal("64KiB");
    expect(result.policy!.namespaces["/"]!.require).to.deep.equal({ role: "1" });
  });

  it("reports a wrong spelling (yes) at the key's value, naming the variable and never its value", async () => {
    setEnv({ SG_T_TLS: "yes", SG_T_PAYLOAD: "lots-and-lots" });
    const result = await load(
      "version: 1\nconnection:\n  requireTls: ${env:SG_T_TLS}\n  maxPayload: ${env:SG_T_PAYLOAD}\n" +
        NAMESPACES,
    );
    expect(result.lines).to.deep.equal([
      "policy.yaml:3:15: error: connection.requireTls must be true or false (from environment variable SG_T_TLS)",
      "policy.yaml:4:15: error: maxPayload is a size: bytes, or a number with KiB, MiB, KB, MB (64KiB, 1MB) (from environment variable SG_T_PAYLOAD)",
    ]);
    expect(result.lines.join("\n")).to.not.include("yes").and.not.include("lots-and-lots");
  });

  it("tells an unset secret to be set, with no default suggested; other keys get the :-default hint", async () => {
    const result = await load(
      "version: 1\nconnection: { requireTls: '${env:SG_T_UNSET_TLS}' }\n" +
        "auth: { issuers: { s: { issuer: urn:s, secret: '${env:SG_T_UNSET_SECRET}', audience: any, algorithms: [HS256] } } }\n" +
        "namespaces:\n  /: { events: {} }\n",
    );
    expect(result.lines).to.deep.equal([
      "policy.yaml:2:27: error: environment variable SG_T_UNSET_TLS is not set (write ${env:SG_T_UNSET_TLS:-default} for a fallback)",
      "policy.yaml:3:48: error: environment variable SG_T_UNSET_SECRET is not set: set it where the server runs (a secret has no default)",
    ]);
  });

  it("takes the types from the policy schema", () => {
    expect([...expectationAt("/connection/requireTls").types]).to.deep.equal(["boolean"]);
    expect([...expectationAt("/connection/maxPayload").types].sort()).to.deep.equal(["integer", "string"]);
    expect(expectationAt("/auth/issuers/x/secret")).to.deep.equal({
      types: new Set(["string"]),
      secret: true,
    });
    expect([...expectationAt("/namespaces/~1/require/role").types]).to.include.members(["string", "boolean"]);
    expect([...expectationAt("/namespaces/~1/events/e/schema/maxLength").types]).to.deep.equal([]);
  });
});
