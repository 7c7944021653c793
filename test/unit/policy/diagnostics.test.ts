/**
 * One fixture per mistake the loader must catch: each loads with exactly one diagnostic, with its
 * message, severity, file, line and column pinned.
 */
import { expect } from "chai";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { loadPolicy } from "../../../src/policy/load.js";

const FIXTURES = fileURLToPath(new URL("../../fixtures/policy/diagnostics/", import.meta.url));

interface Expected {
  /** What the mistake is, for the test's name. */
  readonly what: string;
  readonly fixture: string;
  /** The file the diagnostic is in, when it is not the fixture (a referenced schema file). */
  readonly file?: string;
  readonly line: number;
  readonly col: number;
  readonly message: string;
  readonly severity?: "error" | "warning";
}

const CASES: readonly Expected[] = [
  // YAML itself
  {
    what: "a YAML syntax error",
    fixture: "yaml-syntax.yaml",
    // The end of the file, as its last character: a position is always inside the file.
    line: 3,
    col: 49,
    message: "Flow map in block collection must be sufficiently indented and end with a }",
  },
  {
    what: "a duplicate key",
    fixture: "duplicate-key.yaml",
    line: 7,
    col: 5,
    message: 'duplicate key "auth"',
  },
  {
    what: "a map key that is not a string",
    fixture: "non-string-key.yaml",
    line: 6,
    col: 7,
    message: "key 404 is a number; map keys are strings (quote it)",
  },
  // environment values
  {
    what: "an unset environment variable without a default",
    fixture: "env-unset.yaml",
    line: 6,
    col: 15,
    message: "environment variable SOCKGUARD_TEST_SURELY_UNSET_SECRET is not set",
  },
  {
    what: "an unclosed ${env:...}",
    fixture: "env-malformed.yaml",
    line: 3,
    col: 13,
    message: "unclosed ${env:...}",
  },
  // structure
  {
    what: "an unknown key, at the key, with a suggestion",
    fixture: "unknown-key.yaml",
    line: 3,
    col: 3,
    message: 'unknown key "orgins" in connection (did you mean "origins"?)',
  },
  {
    what: "a missing key, at the parent map",
    fixture: "missing-key.yaml",
    line: 5,
    col: 7,
    message: 'auth.issuers.idp is missing "audience"',
  },
  {
    what: "a value of the wrong type",
    fixture: "wrong-type.yaml",
    line: 3,
    col: 15,
    message: "connection.requireTls must be true or false",
  },
  {
    what: "a namespace name without a leading /",
    fixture: "namespace-name.yaml",
    line: 4,
    col: 3,
    message: '"chat": a namespace name starts with /',
  },
  {
    what: "an empty transports list",
    fixture: "transports-empty.yaml",
    line: 3,
    col: 15,
    message: "connection.transports must not be empty",
  },
  {
    what: "an unknown transport",
    fixture: "transport-unknown.yaml",
    line: 3,
    col: 27,
    message: "connection.transports[1] must be one of: polling, websocket, webtransport",
  },
  {
    what: 'algorithm "none"',
    fixture: "algorithm-none.yaml",
    line: 8,
    col: 27,
    message: 'algorithm "none" is never accepted',
  },
  {
    what: "a require value that is not a value, a list or { all }",
    fixture: "require-shape.yaml",
    line: 12,
    col: 15,
    message: 'unknown key "any" in namespaces["/"].require.role; expected "all"',
  },
  // connection
  {
    what: "an origin with a path",
    fixture: "origin-path.yaml",
    line: 4,
    col: 7,
    message: "an origin has no path, query or fragment",
  },
  {
    what: "a wildcard that is not a leading *. label",
    fixture: "origin-wildcard.yaml",
    line: 4,
    col: 7,
    message: "a wildcard is allowed only as the whole first label",
  },
  {
    what: 'a bare "*" origin (a warning)',
    fixture: "origin-star.yaml",
    line: 3,
    col: 13,
    message: 'origin "*" admits pages from every site',
    severity: "warning",
  },
  {
    what: 'origins: ["*"] with a cookie token source',
    fixture: "origin-star-cookie.yaml",
    line: 3,
    col: 13,
    message: "reopens cross-site WebSocket hijacking",
  },
  {
    what: "webtransport together with origins",
    fixture: "webtransport-origins.yaml",
    line: 4,
    col: 27,
    message: "webtransport skips every HTTP check",
  },
  {
    what: "a trusted proxy that is not an IP or CIDR range",
    fixture: "trusted-proxy.yaml",
    line: 3,
    col: 31,
    message: '"10.0.0.0/33" is not an IP address or CIDR range',
  },
  {
    what: "a size that does not parse",
    fixture: "size.yaml",
    line: 3,
    col: 15,
    message: "maxPayload is a size",
  },
  {
    what: "a rate that does not parse",
    fixture: "rate.yaml",
    line: 3,
    col: 15,
    message: "maxDenials is a rate COUNT/DURATION",
  },
  {
    what: "a duration that does not parse",
    fixture: "duration.yaml",
    line: 3,
    col: 19,
    message: "clockTolerance is a duration",
  },
  {
    what: "a duration too long to be a number of milliseconds",
    fixture: "duration-infinite.yaml",
    line: 3,
    col: 19,
    message: "clockTolerance is a duration",
  },
  {
    what: "a revocationTtl that is not a positive duration",
    fixture: "revocation-ttl.yaml",
    line: 3,
    col: 18,
    message: "revocationTtl is a positive duration",
  },
  // auth
  {
    what: "a token source in the query string (a warning)",
    fixture: "query-token.yaml",
    line: 3,
    col: 27,
    message: "query.access_token: a token in the query string ends up in access logs",
    severity: "warning",
  },
  {
    what: "a namespace issuer that does not exist",
    fixture: "unknown-issuer.yaml",
    line: 11,
    col: 15,
    message: 'unknown issuer "ipd" (did you mean "idp"? auth.issuers has idp)',
  },
  {
    what: "a namespace that does not list its issuers when there are several",
    fixture: "issuers-unlisted.yaml",
    line: 15,
    col: 3,
    message: "the policy trusts 2 issuers (idp, services): list the ones namespace /chat trusts in issuers",
  },
  {
    what: "an issuer without a key source",
    fixture: "no-key-source.yaml",
    line: 5,
    col: 7,
    message: 'issuer "idp" needs a key source',
  },
  {
    what: "an issuer with two key sources",
    fixture: "two-key-sources.yaml",
    line: 7,
    col: 7,
    message: 'issuer "idp" has 2 key sources (jwksUri, secret): keep exactly one',
  },
  {
    what: "an HS algorithm with public keys",
    fixture: "hs-with-keys.yaml",
    line: 8,
    col: 27,
    message: "HS256 verifies with a shared secret: it needs secret, not jwksUri",
  },
  {
    what: "an asymmetric algorithm with a secret",
    fixture: "rs-with-secret.yaml",
    line: 8,
    col: 20,
    message: "RS256 verifies with a public key, not a secret",
  },
  {
    what: "an HS secret shorter than 32 bytes",
    fixture: "short-secret.yaml",
    line: 6,
    col: 15,
    message: "secret is 12 bytes; HS256 needs at least 32",
  },
  {
    what: "a missing jwksFile, at its value",
    fixture: "jwks-file-missing.yaml",
    line: 6,
    col: 17,
    message: "cannot read jwksFile keys/missing.jwks.json: no such file",
  },
  {
    what: "a jwksFile that is not JSON",
    fixture: "jwks-file-not-json.yaml",
    line: 6,
    col: 17,
    message: "keys/not-json.jwks.json is not JSON",
  },
  {
    what: "a publicKeyFile holding a private key",
    fixture: "public-key-private.yaml",
    line: 6,
    col: 22,
    message: "keys/private.pem: this is a private key",
  },
  {
    what: "a public key that cannot verify the algorithm",
    fixture: "public-key-wrong-type.yaml",
    line: 6,
    col: 22,
    message: "keys/ec-p256.pem: it is an EC P-256 key; RS256 needs an RSA key",
  },
  // namespaces and events
  {
    what: "require under auth: none",
    fixture: "require-under-none.yaml",
    line: 5,
    col: 5,
    message: "require under auth: none can never hold",
  },
  {
    what: "an event with neither schema nor args",
    fixture: "event-without-args.yaml",
    line: 6,
    col: 7,
    message: "event ping needs schema or args",
  },
  {
    what: "an event with both schema and args",
    fixture: "event-schema-and-args.yaml",
    line: 8,
    col: 9,
    message: "event ping has both schema and args",
  },
  {
    what: "an event name Socket.IO reserves",
    fixture: "event-reserved.yaml",
    line: 6,
    col: 7,
    message: "event disconnect is reserved by Socket.IO",
  },
  {
    what: "the event name error",
    fixture: "event-error.yaml",
    line: 6,
    col: 7,
    message: "event error is reserved",
  },
  {
    what: "a sockguard:* event name",
    fixture: "event-sockguard.yaml",
    line: 6,
    col: 7,
    message: "sockguard:* names are reserved for the guard",
  },
  {
    what: "a numeric event name",
    fixture: "event-numeric.yaml",
    line: 6,
    col: 7,
    message: "event 42 is numeric",
  },
  {
    what: "a binary maxBytes that does not parse",
    fixture: "binary-size.yaml",
    line: 8,
    col: 35,
    message: "maxBytes is a size",
  },
  // event schemas
  {
    what: "an unknown keyword in an inline schema (strict mode)",
    fixture: "schema-unknown-keyword.yaml",
    line: 9,
    col: 11,
    message: 'unknown keyword "maxlength" (did you mean "maxLength"?)',
  },
  {
    what: "an invalid type in an inline schema",
    fixture: "schema-invalid-type.yaml",
    line: 8,
    col: 21,
    message: '"type" must be one of string, number, integer, boolean, object, array, null',
  },
  {
    what: "properties without type: object (strict types, found when compiling)",
    fixture: "schema-strict-types.yaml",
    line: 8,
    col: 11,
    message: '"properties" needs type: object beside it (strict mode)',
  },
  {
    what: "an error inside a referenced schema file, in that file",
    fixture: "schema-file-error.yaml",
    file: "schemas/bad-keyword.json",
    line: 4,
    col: 33,
    message: 'unknown keyword "maxLenght" (did you mean "maxLength"?)',
  },
  {
    what: "a pattern without maxLength (a warning)",
    fixture: "pattern-without-maxlength.yaml",
    line: 7,
    col: 33,
    message: "pattern without maxLength",
    severity: "warning",
  },
  // $ref files
  {
    what: "a remote $ref",
    fixture: "ref-remote.yaml",
    line: 7,
    col: 25,
    message: "a $ref to https: is never fetched",
  },
  {
    what: "a $ref to a missing file, at the $ref",
    fixture: "ref-missing.yaml",
    line: 7,
    col: 25,
    message: "cannot read schema file schemas/does-not-exist.json: no such file",
  },
  {
    what: "a $ref cycle between files",
    fixture: "ref-cycle.yaml",
    file: "schemas/cycle-b.yaml",
    line: 2,
    col: 7,
    message: "$ref cycle: schemas/cycle-a.json → schemas/cycle-b.yaml → schemas/cycle-a.json",
  },
  {
    what: "a $ref fragment that points at nothing",
    fixture: "ref-fragment.yaml",
    line: 7,
    col: 25,
    message: "schemas/defs.json has nothing at #/$defs/rooms",
  },
];

describe("policy diagnostics: one fixture per mistake", () => {
  before(() => {
    delete process.env.SOCKGUARD_TEST_SURELY_UNSET_SECRET;
  });

  for (const expected of CASES) {
    it(`reports ${expected.what} at ${expected.file ?? expected.fixture}:${expected.line}:${expected.col}`, async () => {
      const result = await loadPolicy(join(FIXTURES, expected.fixture));
      const severity = expected.severity ?? "error";
      expect(result.diagnostics, JSON.stringify(result.diagnostics, null, 2)).to.have.length(1);
      const [diagnostic] = result.diagnostics;
      expect(diagnostic!.message).to.include(expected.message);
      expect(diagnostic!.severity).to.equal(severity);
      expect(diagnostic!.file).to.equal(join(FIXTURES, expected.file ?? expected.fixture));
      expect({ line: diagnostic!.line, col: diagnostic!.col }).to.deep.equal({
        line: expected.line,
        col: expected.col,
      });
      if (severity === "error") expect(result.policy).to.equal(undefined);
      else expect(result.policy).to.be.an("object");
    });
  }
});
