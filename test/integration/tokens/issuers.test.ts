import assert from "node:assert/strict";
import { createPrivateKey, generateKeyPairSync, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT, exportJWK, generateKeyPair, UnsecuredJWT } from "jose";
import { compileAuth, createCompileContext } from "../../../src/compile/auth.js";
import type { CompiledAuth } from "../../../src/compile/types.js";
import type { AuthPolicy } from "../../../src/policy/types.js";
import { JwksServer } from "../../helpers/jwks-server.js";
import {
  claimsFor,
  craftToken,
  createSecret,
  createSigningKey,
  epoch,
  forgeHs256WithPublicKey,
  signWith,
  signWithSecret,
  type SigningKey,
} from "../../helpers/tokens.js";
import { compiledNamespace, startAuthHarness, type AuthHarness } from "./auth-harness.js";

const IDP = "https://idp.example.test/";
const SERVICES = "urn:example:services";
const PARTNER = "https://partner.example.test";
const FILES = "urn:example:files";
const CERTIFIED = "urn:example:certified";
const fixture = (name: string): string => readFileSync(new URL(`fixtures/${name}`, import.meta.url), "utf8");

describe("verifying tokens from several issuers", () => {
  const context = createCompileContext();
  const secret = createSecret();
  let dir: string;
  let jwks: JwksServer;
  let harness: AuthHarness;
  let auth: CompiledAuth;
  let rsa: SigningKey;
  let ec: SigningKey;
  let ed: SigningKey;
  let partner: SigningKey;
  let fileKey: SigningKey;

  before(async () => {
    [rsa, ec, ed, partner, fileKey] = await Promise.all([
      createSigningKey("RS256", "rsa-1"),
      createSigningKey("ES256", "ec-1"),
      createSigningKey("EdDSA", "ed-1"),
      createSigningKey("RS256", "partner-1"),
      createSigningKey("ES256", "file-1"),
    ]);
    jwks = await JwksServer.start([rsa.jwk, ec.jwk, ed.jwk]);
    dir = await mkdtemp(join(tmpdir(), "sockguard-issuers-"));
    const jwksFile = join(dir, "keys", "files.jwks.json");
    const jwksFileContent = JSON.stringify({ keys: [fileKey.jwk] });
    await writeFile(join(dir, "files.jwks.json"), jwksFileContent);
    const policy: AuthPolicy = {
      issuers: {
        idp: {
          issuer: IDP,
          jwksUri: jwks.url,
          audience: "chat-api",
          algorithms: ["RS256", "ES256", "EdDSA"],
        },
        services: { issuer: SERVICES, secret, audience: "any", algorithms: ["HS256"] },
        partner: {
          issuer: PARTNER,
          publicKey: partner.spki,
          audience: ["partner-api", "reports"],
          algorithms: ["RS256"],
        },
        files: { issuer: FILES, jwksFile: "keys/files.jwks.json", audience: "files", algorithms: ["ES256"] },
        certified: {
          issuer: CERTIFIED,
          publicKeyFile: "signing-cert.pem",
          audience: "any",
          algorithms: ["RS256"],
        },
      },
    };
    const keyFiles = new Map([
      [jwksFile, jwksFileContent],
      [join(dir, "signing-cert.pem"), fixture("signing-cert.pem")],
    ]);
    auth = compileAuth(policy, { schemas: new Map(), keyFiles, baseDir: dir }, context);
    harness = await startAuthHarness(compiledNamespace("required", ["idp"]), auth);
  });
  after(async () => {
    await harness.close();
    await jwks.close();
    context.remoteKeySets.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    jwks.mode = "ok";
    harness.auth = auth;
    harness.namespace = compiledNamespace("required", ["idp"]);
  });

  const connectWith = (token: string): ReturnType<AuthHarness["connect"]> =>
    harness.connect({ auth: { token } });
  const refusedWith = (code: string): { connected: false; code: string } => ({ connected: false, code });
  const idpClaims = (claims = {}): ReturnType<typeof claimsFor> => claimsFor(IDP, "chat-api", claims);

  describe("valid tokens", () => {
    it("accepts an identity provider's RS256, ES256 and EdDSA tokens from its JWKS", async () => {
      for (const key of [rsa, ec, ed]) {
        const result = await connectWith(await signWith(key, idpClaims({ sub: `user-${key.alg}` })));
        assert.equal(result.connected && result.identity?.subject, `user-${key.alg}`, key.alg);
      }
    });

    it("gives the verified identity: the issuer's policy name, iss, sub, frozen claims, exp in ms", async () => {
      const exp = epoch(600);
      const result = await connectWith(await signWith(rsa, idpClaims({ exp, roles: ["a"] })));
      assert.ok(result.connected && result.identity);
      const { identity } = result;
      assert.equal(identity.issuer, "idp");
      assert.equal(identity.iss, IDP);
      assert.equal(identity.subject, "user-1");
      assert.equal(identity.expiresAt, exp * 1000);
      assert.deepEqual(identity.claims.roles, ["a"]);
      assert.ok(Object.isFrozen(identity.claims) && Object.isFrozen(identity.claims.roles));
    });

    it("accepts an internal service's HS256 token (audience: any)", async () => {
      harness.namespace = compiledNamespace("required", ["services"]);
      const result = await connectWith(await signWithSecret(secret, claimsFor(SERVICES, "whatever")));
      assert.equal(result.connected, true);
    });

    it("verifies HS256, HS384 and HS512 under one secret, each with its own hash, and only the listed ones", async () => {
      const longSecret = createSecret() + createSecret(); // 96 bytes: enough for HS512
      const compiled = (algorithms: string[]) =>
        compileAuth(
          { issuers: { s: { issuer: SERVICES, secret: longSecret, audience: "any", algorithms } } },
          { schemas: new Map(), keyFiles: new Map(), baseDir: dir },
          context,
        ).issuers.get("s")!;
      const all = compiled(["HS256", "HS384", "HS512"]);
      const only256 = compiled(["HS256"]);
      const bytes = new TextEncoder().encode(longSecret);
      const signed = (alg: string, key: Uint8Array = bytes) =>
        new SignJWT(claimsFor(SERVICES, undefined)).setProtectedHeader({ alg }).sign(key);
      for (const alg of ["HS256", "HS384", "HS512"]) {
        const token = await signed(alg);
        assert.equal((await all.verify(token)).ok, true, alg);
        assert.equal((await all.verify(token)).ok, true, `${alg}, again`);
        assert.deepEqual(
          await all.verify(await signed(alg, new TextEncoder().encode(createSecret() + createSecret()))),
          {
            ok: false,
            code: "token_invalid",
          },
        );
      }
      assert.equal((await only256.verify(await signed("HS256"))).ok, true);
      assert.deepEqual(await only256.verify(await signed("HS512")), { ok: false, code: "token_invalid" });
    });

    it("accepts tokens verified with a PEM public key, a JWK set file and an X.509 certificate", async () => {
      harness.namespace = compiledNamespace("required", ["partner", "files", "certified"]);
      const partnerToken = await signWith(partner, claimsFor(PARTNER, "reports"));
      const filesToken = await signWith(fileKey, claimsFor(FILES, "files"));
      const certKey = createPrivateKey(fixture("cert-signing-key.pem"));
      const certifiedToken = await new SignJWT(claimsFor(CERTIFIED, undefined))
        .setProtectedHeader({ alg: "RS256" })
        .sign(certKey);
      for (const token of [partnerToken, filesToken, certifiedToken]) {
        assert.equal((await connectWith(token)).connected, true);
      }
    });

    it("accepts each issuer only in the namespaces that list it", async () => {
      const idpToken = await signWith(rsa, idpClaims());
      const serviceToken = await signWithSecret(secret, claimsFor(SERVICES, undefined));

      harness.namespace = compiledNamespace("required", ["idp"]);
      assert.equal((await connectWith(idpToken)).connected, true);
      assert.deepEqual(await connectWith(serviceToken), refusedWith("issuer_not_allowed"));

      harness.namespace = compiledNamespace("required", ["services"]);
      assert.deepEqual(await connectWith(idpToken), refusedWith("issuer_not_allowed"));
      assert.equal((await connectWith(serviceToken)).connected, true);

      harness.namespace = compiledNamespace("required", ["idp", "services"]);
      assert.equal((await connectWith(idpToken)).connected, true);
      assert.equal((await connectWith(serviceToken)).connected, true);
    });

    it("accepts a token whose aud array holds one of the issuer's audiences", async () => {
      harness.namespace = compiledNamespace("required", ["partner"]);
      const token = await signWith(
        partner,
        claimsFor(PARTNER, undefined, { aud: ["elsewhere", "partner-api"] }),
      );
      assert.equal((await connectWith(token)).connected, true);
    });

    it("tries each key when a JWK set holds several that fit a token without kid", async () => {
      const [first, second] = await Promise.all([generateKeyPair("ES256"), generateKeyPair("ES256")]);
      const keys = [await exportJWK(first.publicKey), await exportJWK(second.publicKey)];
      const local = compileAuth(
        { issuers: { files: { issuer: FILES, jwks: { keys }, audience: "files", algorithms: ["ES256"] } } },
        { schemas: new Map(), keyFiles: new Map(), baseDir: dir },
        context,
      );
      harness.auth = local;
      harness.namespace = compiledNamespace("required", ["files"]);
      const token = await new SignJWT(claimsFor(FILES, "files"))
        .setProtectedHeader({ alg: "ES256" })
        .sign(second.privateKey);
      assert.equal((await connectWith(token)).connected, true);
      const stranger = await generateKeyPair("ES256");
      const forged = await new SignJWT(claimsFor(FILES, "files"))
        .setProtectedHeader({ alg: "ES256" })
        .sign(stranger.privateKey);
      assert.deepEqual(await connectWith(forged), refusedWith("token_invalid"));
    });
  });

  describe("forged and stale tokens", () => {
    it("refuses alg: none", async () => {
      assert.deepEqual(
        await connectWith(new UnsecuredJWT(idpClaims()).encode()),
        refusedWith("token_invalid"),
      );
      const withKid = craftToken({ alg: "none", kid: rsa.kid }, idpClaims());
      assert.deepEqual(await connectWith(withKid), refusedWith("token_invalid"));
    });

    it("refuses an HS256 token signed with the issuer's RSA public key as the secret", async () => {
      assert.deepEqual(
        await connectWith(forgeHs256WithPublicKey(rsa.spki, idpClaims(), rsa.kid)),
        refusedWith("token_invalid"),
      );
      harness.namespace = compiledNamespace("required", ["partner"]);
      const forged = forgeHs256WithPublicKey(partner.spki, claimsFor(PARTNER, "reports"));
      assert.deepEqual(await connectWith(forged), refusedWith("token_invalid"));
    });

    it("refuses an algorithm outside the issuer's list, without fetching keys for it", async () => {
      // A key the JWK set serves for any RSA algorithm (its JWK names none): only the allowlist stops RS384.
      const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      jwks.keys = [...jwks.keys, { ...publicKey.export({ format: "jwk" }), kid: "rsa-any" }];
      const signed = (alg: "RS256" | "RS384", hash: string): string => {
        const signingInput = craftToken({ alg, kid: "rsa-any" }, idpClaims()).slice(0, -1);
        return `${signingInput}.${sign(hash, Buffer.from(signingInput), privateKey).toString("base64url")}`;
      };
      const requestsBefore = jwks.requests;
      assert.deepEqual(await connectWith(signed("RS384", "sha384")), refusedWith("token_invalid"));
      assert.equal(jwks.requests, requestsBefore);
      assert.equal((await connectWith(signed("RS256", "sha256"))).connected, true);
    });

    it("refuses an expired token, and accepts one expired within the clock tolerance (5 s)", async () => {
      assert.deepEqual(
        await connectWith(await signWith(rsa, idpClaims({ exp: epoch(-60) }))),
        refusedWith("token_expired"),
      );
      assert.equal((await connectWith(await signWith(rsa, idpClaims({ exp: epoch(-2) })))).connected, true);
    });

    it("refuses a token whose nbf is in the future", async () => {
      const token = await signWith(rsa, idpClaims({ nbf: epoch(120) }));
      assert.deepEqual(await connectWith(token), refusedWith("token_invalid"));
    });

    it("refuses a wrong aud, and a token without aud when the issuer names one", async () => {
      assert.deepEqual(
        await connectWith(await signWith(rsa, idpClaims({ aud: "other-api" }))),
        refusedWith("token_invalid"),
      );
      assert.deepEqual(
        await connectWith(await signWith(rsa, claimsFor(IDP, undefined))),
        refusedWith("token_invalid"),
      );
    });

    it("refuses an unknown iss, and a token without iss", async () => {
      const unknown = await signWith(rsa, claimsFor("https://evil.example.test/", "chat-api"));
      assert.deepEqual(await connectWith(unknown), refusedWith("issuer_not_allowed"));
      const { iss: _iss, ...withoutIss } = idpClaims();
      assert.deepEqual(await connectWith(await signWith(rsa, withoutIss)), refusedWith("token_invalid"));
    });

    it("refuses a token signed by issuer A's key that claims issuer B", async () => {
      harness.namespace = compiledNamespace("required", ["idp", "partner", "services"]);
      const claimsPartner = await signWith(rsa, claimsFor(PARTNER, "reports"));
      assert.deepEqual(await connectWith(claimsPartner), refusedWith("token_invalid"));
      const serviceClaimsIdp = await new SignJWT(idpClaims())
        .setProtectedHeader({ alg: "HS256" })
        .sign(new TextEncoder().encode(secret));
      assert.deepEqual(await connectWith(serviceClaimsIdp), refusedWith("token_invalid"));
      const idpClaimsService = await signWith(partner, claimsFor(SERVICES, undefined));
      assert.deepEqual(await connectWith(idpClaimsService), refusedWith("token_invalid"));
    });

    it("refuses a token without exp", async () => {
      const { exp: _exp, ...withoutExp } = idpClaims();
      assert.deepEqual(await connectWith(await signWith(rsa, withoutExp)), refusedWith("token_invalid"));
    });

    it("refuses a tampered payload", async () => {
      const [header, , signature] = (await signWith(rsa, idpClaims({ role: "user" }))).split(".");
      const tampered = `${header}.${Buffer.from(JSON.stringify(idpClaims({ role: "admin" }))).toString("base64url")}.${signature}`;
      assert.deepEqual(await connectWith(tampered), refusedWith("token_invalid"));
    });

    it("refuses malformed tokens", async () => {
      const valid = await signWith(rsa, idpClaims());
      const malformed = [
        "abc",
        "a.b",
        "a.b.c.d",
        valid.slice(0, -10),
        `${valid}.extra`,
        craftToken({ alg: "RS256" }, idpClaims()).replace(/^[^.]+/, "!!!"),
        `e30.${Buffer.from("[1,2]").toString("base64url")}.sig`,
      ];
      for (const token of malformed)
        assert.deepEqual(await connectWith(token), refusedWith("token_invalid"), token);
    });

    it("refuses a sub that is not a string", async () => {
      assert.deepEqual(
        await connectWith(await signWith(rsa, idpClaims({ sub: 42 }))),
        refusedWith("token_invalid"),
      );
    });

    it("refuses, without crashing, a token whose key jose rejects with a plain TypeError (a 1024-bit RSA key)", async () => {
      const weak = generateKeyPairSync("rsa", { modulusLength: 1024 });
      const jwk = { ...(weak.publicKey.export({ format: "jwk" }) as object), kid: "weak", alg: "RS256" };
      const local = compileAuth(
        {
          issuers: {
            files: { issuer: FILES, jwks: { keys: [jwk] }, audience: "files", algorithms: ["RS256"] },
          },
        },
        { schemas: new Map(), keyFiles: new Map(), baseDir: dir },
        context,
      );
      harness.auth = local;
      harness.namespace = compiledNamespace("required", ["files"]);
      const unsigned = craftToken({ alg: "RS256", kid: "weak" }, claimsFor(FILES, "files"));
      const signingInput = unsigned.slice(0, -1);
      const signature = sign("sha256", Buffer.from(signingInput), weak.privateKey).toString("base64url");
      assert.deepEqual(await connectWith(`${signingInput}.${signature}`), refusedWith("token_invalid"));
    });
  });

  describe("namespace claims requirements", () => {
    it("admits only tokens whose claims satisfy the namespace's require", async () => {
      harness.namespace = compiledNamespace("required", ["idp"], { scope: "chat:read" });
      const reader = await signWith(rsa, idpClaims({ scope: "profile chat:read" }));
      const outsider = await signWith(rsa, idpClaims({ scope: "profile" }));
      assert.equal((await connectWith(reader)).connected, true);
      assert.deepEqual(await connectWith(outsider), refusedWith("claims_not_satisfied"));
    });
  });
});
