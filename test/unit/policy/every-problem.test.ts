/**
 * Every problem of a policy in one run (DESIGN §4): a structural mistake in one part leaves the
 * others checked, schema files included, and is reported once, not again as what it broke.
 */
import { expect } from "chai";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadPolicy } from "../../../src/policy/load.js";
import { formatDiagnostic } from "../../../src/policy/diagnostic.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";

const FIXTURES = fileURLToPath(new URL("../../fixtures/policy/diagnostics/", import.meta.url));

describe("loadPolicy: every problem in one run", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  /** The diagnostics of `policy` (written to a file), as FILE:LINE:COL lines relative to its directory. */
  async function linesOf(policy: string): Promise<string[]> {
    const dir = await writePolicyFiles(cleanup, { "policy.yaml": policy });
    const result = await loadPolicy(join(dir, "policy.yaml"));
    return result.diagnostics.map((d) => formatDiagnostic(d, { relativeTo: dir }));
  }

  it("reports the problems of connection, auth, a namespace, events and a schema file together, each at its line:col", async () => {
    const result = await loadPolicy(join(FIXTURES, "many-problems.yaml"));
    expect(result.policy).to.equal(undefined);
    expect(result.diagnostics.map((d) => formatDiagnostic(d, { relativeTo: FIXTURES }))).to.deep.equal([
      "many-problems.yaml:4:13: error: an origin has no path, query or fragment: remove the trailing /",
      "many-problems.yaml:5:15: error: connection.requireTls must be true or false",
      "many-problems.yaml:7:19: error: clockTolerance is a duration such as 5s, 30s or 1m",
      "many-problems.yaml:9:39: error: secret is 9 bytes; HS256 needs at least 32",
      'many-problems.yaml:13:5: error: unknown key "requre" in namespaces["/chat"] (did you mean "require"?)',
      'many-problems.yaml:16:25: error: "type" must be one of string, number, integer, boolean, object, array, null (or a list of them)',
      'many-problems.yaml:21:20: error: claim "/rooms~2" is not a JSON Pointer: ~ must be followed by 0 or 1',
      'schemas/many-problems.json:3:47: error: unknown keyword "maxLenght" (did you mean "maxLength"?); strict mode refuses keywords it does not know',
    ]);
  });

  it("says nothing of an issuer whose key source is misspelt but that mistake, and still knows its name", async () => {
    const lines = await linesOf(`version: 1
auth:
  issuers:
    idp: { issuer: "urn:idp", jwksUrl: "https://idp.example.com/jwks", audience: any, algorithms: [RS256] }
connection: { origins: [https://a.example.com/x] }
namespaces:
  /: { issuers: [idp], events: {} }
`);
    expect(lines).to.deep.equal([
      'policy.yaml:4:31: error: unknown key "jwksUrl" in auth.issuers.idp (did you mean "jwksUri"?)',
      "policy.yaml:5:25: error: an origin has no path, query or fragment: remove everything after the host and port",
    ]);
  });

  it("reports a misspelt event key once, and still checks the namespace's other events", async () => {
    const lines = await linesOf(`version: 1
namespaces:
  /:
    auth: none
    events:
      a: { shema: { type: string } }
      b: { schema: { type: strng } }
`);
    expect(lines).to.deep.equal([
      'policy.yaml:6:12: error: unknown key "shema" in namespaces["/"].events.a (did you mean "schema"?)',
      'policy.yaml:7:28: error: "type" must be one of string, number, integer, boolean, object, array, null (or a list of them)',
    ]);
  });

  it("judges nothing by a broken auth mode, and still checks the namespace's events", async () => {
    const lines = await linesOf(`version: 1
namespaces:
  /:
    auth: nope
    require: { "a..b": x }
    events:
      a: { args: [{ binary: { maxBytes: lots } }] }
`);
    expect(lines).to.deep.equal([
      'policy.yaml:4:11: error: namespaces["/"].auth must be one of: required, optional, none',
      'policy.yaml:5:16: error: claim "a..b" has an empty segment; a key with dots in its name is written as a JSON Pointer (/a.b)',
      "policy.yaml:7:41: error: maxBytes is a size: bytes, or a number with KiB, MiB, KB, MB (64KiB, 1MB)",
    ]);
  });

  it("checks connection and auth when namespaces is missing or not a map", async () => {
    for (const namespaces of ["", "namespaces: [/chat]\n"]) {
      const lines = await linesOf(
        `version: 1\nconnection: { maxDenials: often }\nauth: { issuers: { a: { issuer: "urn:a", secret: short, audience: any, algorithms: [HS256] } } }\n${namespaces}`,
      );
      expect(lines, namespaces).to.have.length(3);
      expect(lines, namespaces).to.include.members([
        "policy.yaml:2:27: error: maxDenials is a rate COUNT/DURATION with a count of at least 1, such as 20/1m",
        "policy.yaml:3:50: error: secret is 5 bytes; HS256 needs at least 32",
      ]);
      const missing = namespaces
        ? "policy.yaml:4:13: error: namespaces must be a map"
        : 'policy.yaml:1:1: error: the policy is missing "namespaces"';
      expect(lines, namespaces).to.include(missing);
    }
  });

  it("reports no unknown issuer when auth.issuers itself is broken", async () => {
    const lines = await linesOf(`version: 1
auth: { issuers: [idp] }
namespaces:
  /: { issuers: [idp], events: { a: { args: [] } } }
`);
    expect(lines).to.deep.equal(["policy.yaml:2:18: error: auth.issuers must be a map"]);
  });
});
