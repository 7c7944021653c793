import assert from "node:assert/strict";
import type { Identity } from "../../../src/compile/types.js";
import { identityView } from "../../../src/enforce/identity-view.js";
import { isRevokedBy } from "../../../src/cluster/revocation-entry.js";
import { MemoryRevocationStore } from "../../../src/cluster/memory-revocation-store.js";
import { revocationEntry, type RevocationTarget } from "../../../src/enforce/revocation.js";

const HOUR = 3_600_000;
const T = 1_700_000_000_000;
/** A policy's auth: revocations last an hour; clocks may disagree by 2 s. */
const AUTH = { revocationTtlMs: HOUR, clockToleranceSec: 2 };

const identity = (issuer: string, iss: string, subject?: string, extra: Partial<Identity> = {}): Identity =>
  Object.freeze({
    issuer,
    iss,
    ...(subject === undefined ? {} : { subject }),
    claims: Object.freeze({}),
    expiresAt: T + HOUR,
    issuedAt: T - 1000,
    ...extra,
  });

const revokes = (target: RevocationTarget, who: Identity | undefined, now = T): boolean =>
  isRevokedBy([revocationEntry(target, T, AUTH)], who, now);

describe("revocation matching", () => {
  const alice = identity("idp", "https://idp.example.test/", "alice");
  const aliceService = identity("services", "urn:example:services", "alice");
  const bob = identity("idp", "https://idp.example.test/", "bob");
  const noSubject = identity("idp", "https://idp.example.test/");

  it("{ sub } matches that subject under every issuer", () => {
    assert.deepEqual(
      [alice, aliceService, bob, noSubject].map((who) => revokes({ sub: "alice" }, who)),
      [true, true, false, false],
    );
  });

  it("{ issuer, sub } matches only under that issuer, named as in the policy or by its iss", () => {
    assert.deepEqual(
      [alice, aliceService].map((who) => revokes({ issuer: "idp", sub: "alice" }, who)),
      [true, false],
    );
    assert.deepEqual(
      [alice, aliceService].map((who) => revokes({ issuer: "urn:example:services", sub: "alice" }, who)),
      [false, true],
    );
  });

  it("refuses tokens issued until the revocation plus the clock tolerance, and tokens without iat; admits later ones", () => {
    const at = (issuedAt: number | undefined): Identity => {
      const { issuedAt: _drop, ...rest } = alice;
      return Object.freeze(issuedAt === undefined ? rest : { ...rest, issuedAt });
    };
    assert.equal(revokes({ sub: "alice" }, at(T)), true);
    assert.equal(revokes({ sub: "alice" }, at(undefined)), true);
    // An issuer whose clock runs 2 s ahead stamped this token, made before the revocation, T + 2 s.
    assert.equal(revokes({ sub: "alice" }, at(T + 2000)), true);
    assert.equal(revokes({ sub: "alice" }, at(T + 3000)), false);
  });

  it("{ jti } matches that one token whatever its iat, and not the subject's others", () => {
    const token = identity("idp", "https://idp.example.test/", "alice", { jti: "t-1", issuedAt: T + 5000 });
    const sibling = identity("idp", "https://idp.example.test/", "alice", { jti: "t-2" });
    assert.equal(revokes({ jti: "t-1" }, token), true);
    assert.equal(revokes({ jti: "t-1" }, sibling), false);
    assert.equal(revokes({ jti: "t-1", issuer: "services" }, token), false);
  });

  it("stops refusing once the revocation's ttl has passed", () => {
    assert.equal(revokes({ sub: "alice" }, alice, T + HOUR - 1), true);
    assert.equal(revokes({ sub: "alice" }, alice, T + HOUR), false);
  });

  it("never matches an anonymous socket", () => {
    assert.equal(revokes({ sub: "alice" }, undefined), false);
  });

  it("refuses a target without a usable sub or jti instead of matching nobody (or everybody)", () => {
    for (const target of [
      {},
      { sub: "" },
      { sub: 7 },
      { issuer: "idp" },
      null,
      { sub: "a", issuer: "" },
      { jti: "" },
      { jti: 3 },
      { sub: "a", jti: "b" },
    ]) {
      assert.throws(() => revocationEntry(target as unknown as RevocationTarget, T, AUTH), TypeError);
    }
  });
});

describe("the in-memory revocation store", () => {
  const alice = identity("idp", "https://idp.example.test/", "alice", { jti: "t-1" });

  it("answers at once, and counts a generation per revocation", () => {
    const store = new MemoryRevocationStore();
    assert.equal(store.isRevoked(alice, T), false);
    store.add(revocationEntry({ sub: "alice" }, T, AUTH));
    assert.equal(store.generation, 1);
    assert.equal(store.isRevoked(alice, T), true);
    assert.equal(store.isRevoked(identity("idp", "https://idp.example.test/", "bob"), T), false);
  });

  it("finds a token by jti", () => {
    const store = new MemoryRevocationStore();
    store.add(revocationEntry({ jti: "t-1" }, T, AUTH));
    assert.equal(store.isRevoked(alice, T), true);
    assert.equal(
      store.isRevoked(identity("idp", "https://idp.example.test/", "alice", { jti: "t-2" }), T),
      false,
    );
  });

  it("drops expired entries, and keeps one place for a subject revoked again and again", () => {
    const store = new MemoryRevocationStore();
    for (let i = 0; i < 5; i += 1) store.add(revocationEntry({ sub: "alice" }, T + i, AUTH));
    assert.equal(store.size, 1);
    assert.equal(store.isRevoked(alice, T + 4 + HOUR), false);
    assert.equal(store.size, 0);
  });

  it("is bounded: when full of entries in force it refuses a new one rather than forget an old one", () => {
    const store = new MemoryRevocationStore(2);
    store.add(revocationEntry({ sub: "a" }, T, AUTH));
    store.add(revocationEntry({ sub: "b" }, T, AUTH));
    assert.throws(() => store.add(revocationEntry({ sub: "c" }, T, AUTH)), RangeError);
    assert.equal(store.isRevoked(identity("idp", "https://idp.example.test/", "a"), T), true);
    // Once those have expired, their places are taken back.
    store.add(revocationEntry({ sub: "c" }, T + HOUR, AUTH));
    assert.equal(store.size, 1);
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
