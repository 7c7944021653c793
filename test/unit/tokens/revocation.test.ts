import assert from "node:assert/strict";
import type { Identity } from "../../../src/compile/types.js";
import { identityView } from "../../../src/enforce/identity-view.js";
import { matchRevocation, type RevocationTarget } from "../../../src/enforce/revocation.js";

const identity = (issuer: string, iss: string, subject?: string): Identity =>
  Object.freeze({
    issuer,
    iss,
    ...(subject === undefined ? {} : { subject }),
    claims: Object.freeze({}),
    expiresAt: 0,
  });

describe("revocation matching", () => {
  const alice = identity("idp", "https://idp.example.test/", "alice");
  const aliceService = identity("services", "urn:example:services", "alice");
  const bob = identity("idp", "https://idp.example.test/", "bob");
  const noSubject = identity("idp", "https://idp.example.test/");

  it("{ sub } matches that subject under every issuer", () => {
    const revoked = matchRevocation({ sub: "alice" });
    assert.deepEqual([alice, aliceService, bob, noSubject].map(revoked), [true, true, false, false]);
  });

  it("{ issuer, sub } matches only under that issuer, named as in the policy or by its iss", () => {
    assert.deepEqual([alice, aliceService].map(matchRevocation({ issuer: "idp", sub: "alice" })), [
      true,
      false,
    ]);
    const byIss = matchRevocation({ issuer: "urn:example:services", sub: "alice" });
    assert.deepEqual([alice, aliceService].map(byIss), [false, true]);
  });

  it("never matches an anonymous socket", () => {
    assert.equal(matchRevocation({ sub: "alice" })(undefined), false);
  });

  it("refuses a target without a usable sub instead of matching nobody (or everybody)", () => {
    for (const target of [{}, { sub: "" }, { sub: 7 }, { issuer: "idp" }, null, { sub: "a", issuer: "" }]) {
      assert.throws(() => matchRevocation(target as unknown as RevocationTarget), TypeError);
    }
  });
});

describe("socket.data.sockguard", () => {
  it("is a frozen view with issuer, subject, claims and expiresAt, and nothing else", () => {
    const source: Identity = Object.freeze({
      issuer: "idp",
      iss: "https://idp.example.test/",
      subject: "alice",
      claims: Object.freeze({ role: "admin" }),
      expiresAt: 1_700_000_000_000,
    });
    const view = identityView(source);
    assert.deepEqual(view, {
      issuer: "idp",
      subject: "alice",
      claims: { role: "admin" },
      expiresAt: 1_700_000_000_000,
    });
    assert.ok(Object.isFrozen(view));
    assert.throws(() => {
      (view as { subject: string }).subject = "mallory";
    }, TypeError);
  });
});
