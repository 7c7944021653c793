import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileAuth, createCompileContext } from "../../../src/compile/auth.js";
import { PolicyCompileError } from "../../../src/compile/compile-error.js";
import type { AuthPolicy, IssuerPolicy, TokenSource } from "../../../src/policy/types.js";
import { createSecret, createSigningKey, type SigningKey } from "../../helpers/tokens.js";

const baseDir = tmpdir();
const resources = (keyFiles: Record<string, string> = {}) => ({
  schemas: new Map(),
  keyFiles: new Map(Object.entries(keyFiles).map(([file, content]) => [join(baseDir, file), content])),
  baseDir,
});

describe("compiling auth", () => {
  const context = createCompileContext();
  let rsa: SigningKey;
  let ec: SigningKey;
  after(() => context.remoteKeySets.close());
  before(async () => {
    [rsa, ec] = await Promise.all([createSigningKey("RS256", "r"), createSigningKey("ES256", "e")]);
  });

  const compileIssuer = (entry: Partial<IssuerPolicy>, keyFiles: Record<string, string> = {}) =>
    compileAuth(
      {
        issuers: {
          one: { issuer: "urn:one", audience: "any", algorithms: ["RS256"], ...entry } as IssuerPolicy,
        },
      },
      resources(keyFiles),
      context,
    );
  /** An `assert.throws` validator: a PolicyCompileError at `path` whose message matches. */
  const refusal =
    (path: string[], pattern: RegExp) =>
    (error: unknown): boolean => {
      assert.ok(error instanceof PolicyCompileError);
      assert.deepEqual(error.path, path);
      assert.match(error.message, pattern);
      return true;
    };

  it("defaults: token from auth.token then the Authorization header, 5 s of clock tolerance, no issuers", () => {
    const auth = compileAuth(undefined, resources(), context);
    assert.deepEqual(auth.tokenFrom, ["auth.token", "header.authorization"]);
    assert.equal(auth.clockToleranceSec, 5);
    assert.equal(auth.issuers.size, 0);
    assert.equal(auth.revocationTtlMs, 24 * 3_600_000);
  });

  it("reads revocationTtl from the policy", () => {
    assert.equal(compileAuth({ revocationTtl: "90m" }, resources(), context).revocationTtlMs, 90 * 60_000);
  });

  it("reads tokenFrom and clockTolerance from the policy", () => {
    const policy: AuthPolicy = { tokenFrom: ["cookie.session"], clockTolerance: "30s" };
    const auth = compileAuth(policy, resources(), context);
    assert.deepEqual(auth.tokenFrom, ["cookie.session"]);
    assert.equal(auth.clockToleranceSec, 30);
  });

  it("refuses a token source it does not know", () => {
    for (const source of ["cookie.", "query.", "header.cookie", "auth.user", "cookie.a;b"]) {
      assert.throws(
        () => compileAuth({ tokenFrom: [source as TokenSource] }, resources(), context),
        refusal(["auth", "tokenFrom", "0"], /a token source is/),
      );
    }
    assert.throws(() => compileAuth({ tokenFrom: [] }, resources(), context), /at least one token source/);
  });

  it("refuses an issuer without iss or audience, which jose would silently not check", () => {
    assert.throws(
      () => compileIssuer({ publicKey: rsa.spki, issuer: "" }),
      refusal(["auth", "issuers", "one", "issuer"], /exact `iss`/),
    );
    for (const audience of [undefined, "", [], ["ok", ""]]) {
      assert.throws(
        () => compileIssuer({ publicKey: rsa.spki, audience: audience as string }),
        refusal(["auth", "issuers", "one", "audience"], /needs an audience/),
      );
    }
  });

  it("indexes issuers by policy name and by iss", () => {
    const auth = compileIssuer({ publicKey: rsa.spki });
    assert.equal(auth.issuers.get("one")?.iss, "urn:one");
    assert.equal(auth.issuersByIss.get("urn:one")?.name, "one");
  });

  it("refuses two issuers with the same iss", () => {
    const secret = createSecret();
    const entry: IssuerPolicy = { issuer: "urn:same", secret, audience: "any", algorithms: ["HS256"] };
    assert.throws(
      () => compileAuth({ issuers: { a: entry, b: { ...entry } } }, resources(), context),
      refusal(["auth", "issuers", "b", "issuer"], /same iss/),
    );
  });

  describe("secrets", () => {
    it("refuses a secret under 32 bytes, without echoing it", () => {
      assert.throws(
        () => compileIssuer({ secret: "short-but-secret-value", algorithms: ["HS256"] }),
        (error: unknown) =>
          refusal(["auth", "issuers", "one", "secret"], /HS256 needs at least 32 bytes/)(error) &&
          !(error as Error).message.includes("short-but-secret-value"),
      );
    });

    it("needs as many bytes as the longest hash listed: 48 for HS384, 64 for HS512 (RFC 7518 §3.2)", () => {
      const bytes = (length: number) => "s".repeat(length);
      assert.throws(
        () => compileIssuer({ secret: bytes(47), algorithms: ["HS384"] }),
        refusal(["auth", "issuers", "one", "secret"], /HS384 needs at least 48 bytes/),
      );
      assert.throws(
        () => compileIssuer({ secret: bytes(63), algorithms: ["HS256", "HS512", "HS384"] }),
        refusal(["auth", "issuers", "one", "secret"], /HS512 needs at least 64 bytes/),
      );
      assert.equal(compileIssuer({ secret: bytes(48), algorithms: ["HS384", "HS256"] }).issuers.size, 1);
      assert.equal(compileIssuer({ secret: bytes(64), algorithms: ["HS512"] }).issuers.size, 1);
    });

    it("refuses a secret for a public-key algorithm, and an HS algorithm with a public key", () => {
      assert.throws(() => compileIssuer({ secret: createSecret(), algorithms: ["RS256"] }), /only HS256/);
      assert.throws(
        () => compileIssuer({ publicKey: rsa.spki, algorithms: ["RS256", "HS256"] }),
        /HS\* algorithms need a `secret`/,
      );
      assert.throws(
        () => compileIssuer({ jwksUri: "https://idp.example.test/jwks", algorithms: ["HS256"] }),
        /HS\* algorithms need a `secret`/,
      );
    });
  });

  describe("public keys", () => {
    it("reads a publicKeyFile from the loader's key files, relative to the policy's directory", () => {
      const auth = compileIssuer({ publicKeyFile: "keys/one.pem" }, { "keys/one.pem": rsa.spki });
      assert.equal(auth.issuers.size, 1);
    });

    it("refuses a key file the loader did not read", () => {
      assert.throws(() => compileIssuer({ publicKeyFile: "missing.pem" }), /not read by the loader/);
    });

    it("refuses a private key, and text that is not PEM", () => {
      const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const pem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
      assert.throws(() => compileIssuer({ publicKey: pem }), /BEGIN PUBLIC KEY/);
      assert.throws(() => compileIssuer({ publicKey: "not a key" }), /BEGIN PUBLIC KEY/);
      assert.throws(
        () => compileIssuer({ publicKey: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n" }),
        /does not parse/,
      );
    });

    it("refuses a key that cannot serve one of the issuer's algorithms", () => {
      assert.throws(
        () => compileIssuer({ publicKey: ec.spki, algorithms: ["RS256"] }),
        /cannot verify RS256/,
      );
      assert.throws(
        () => compileIssuer({ publicKey: ec.spki, algorithms: ["ES384"] }),
        /cannot verify ES384/,
      );
      assert.throws(
        () => compileIssuer({ publicKey: rsa.spki, algorithms: ["RS256", "EdDSA"] }),
        /cannot verify EdDSA/,
      );
      assert.equal(compileIssuer({ publicKey: rsa.spki, algorithms: ["RS256", "PS256"] }).issuers.size, 1);
    });

    it("refuses an RSA key under 2048 bits", () => {
      const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
      const pem = publicKey.export({ format: "pem", type: "spki" }).toString();
      assert.throws(() => compileIssuer({ publicKey: pem }), /at least 2048 bits/);
    });
  });

  describe("JWK sets", () => {
    it("refuses a JWK set holding a private or symmetric key", () => {
      assert.throws(() => compileIssuer({ jwks: { keys: [{ ...rsa.jwk, d: "AAAA" }] } }), /public keys only/);
      assert.throws(() => compileIssuer({ jwks: { keys: [{ kty: "oct", k: "AAAA" }] } }), /public keys only/);
    });

    it("refuses an empty set, and a jwksFile that is not JSON", () => {
      assert.throws(() => compileIssuer({ jwks: { keys: [] } }), /non-empty `keys`/);
      assert.throws(
        () => compileIssuer({ jwksFile: "k.json" }, { "k.json": "{ nope" }),
        /not a JSON JWK set/,
      );
    });
  });

  describe("issuer entries", () => {
    it("refuses an issuer with no key source or with two", () => {
      assert.throws(() => compileIssuer({}), /exactly one of/);
      assert.throws(
        () => compileIssuer({ publicKey: rsa.spki, jwksUri: "https://x.test/jwks" }),
        /exactly one of/,
      );
    });

    it("refuses an algorithm jose does not verify, and an empty list", () => {
      assert.throws(
        () => compileIssuer({ publicKey: rsa.spki, algorithms: ["none"] }),
        /unsupported algorithm "none"/,
      );
      assert.throws(() => compileIssuer({ publicKey: rsa.spki, algorithms: [] }), /never inferred/);
    });
  });
});
