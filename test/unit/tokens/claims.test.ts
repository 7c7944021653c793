import assert from "node:assert/strict";
import { claimPath, compileClaimsRequirement } from "../../../src/compile/claims.js";
import type { ClaimsRequirement } from "../../../src/policy/types.js";

/** Claims as they come out of a verified token: parsed JSON. */
const fromJson = (json: string): Record<string, unknown> => JSON.parse(json) as Record<string, unknown>;
const holds = (requirement: ClaimsRequirement, claims: Record<string, unknown> | undefined): boolean =>
  compileClaimsRequirement(requirement)(claims);

describe("claims requirements (require)", () => {
  describe("single values", () => {
    it("holds when the claim strictly equals the value", () => {
      assert.equal(holds({ role: "admin" }, { role: "admin" }), true);
      assert.equal(holds({ role: "admin" }, { role: "Admin" }), false);
    });

    it('never coerces: true is not "true", 1 is not "1"', () => {
      assert.equal(holds({ verified: true }, { verified: "true" }), false);
      assert.equal(holds({ verified: "true" }, { verified: true }), false);
      assert.equal(holds({ level: 1 }, { level: "1" }), false);
      assert.equal(holds({ level: "1" }, { level: 1 }), false);
      assert.equal(holds({ verified: true }, { verified: true }), true);
      assert.equal(holds({ level: 1 }, { level: 1 }), true);
      assert.equal(holds({ verified: false }, { verified: 0 }), false);
    });

    it("holds when the claim is an array holding the value", () => {
      assert.equal(holds({ roles: "admin" }, { roles: ["user", "admin"] }), true);
      assert.equal(holds({ roles: "admin" }, { roles: ["user"] }), false);
      assert.equal(holds({ groups: 7 }, { groups: ["7"] }), false);
    });

    it("fails on a missing or null claim", () => {
      assert.equal(holds({ role: "admin" }, {}), false);
      assert.equal(holds({ role: "admin" }, { role: null }), false);
      assert.equal(holds({ flag: false }, {}), false);
    });

    it("fails on an object claim, which holds no value", () => {
      assert.equal(holds({ role: "admin" }, { role: { admin: true } }), false);
    });
  });

  describe("scope and scp", () => {
    it("splits the scope and scp strings on spaces", () => {
      assert.equal(holds({ scope: "chat:write" }, { scope: "chat:read chat:write" }), true);
      assert.equal(holds({ scp: "chat:write" }, { scp: "chat:read  chat:write" }), true);
      assert.equal(holds({ scope: "chat" }, { scope: "chat:read chat:write" }), false);
    });

    it("accepts scp as an array too", () => {
      assert.equal(holds({ scp: "chat:write" }, { scp: ["chat:read", "chat:write"] }), true);
    });

    it("splits no other claim, and no nested scope", () => {
      assert.equal(holds({ role: "admin" }, { role: "user admin" }), false);
      assert.equal(holds({ "ext.scope": "a" }, { ext: { scope: "a b" } }), false);
      assert.equal(holds({ "ext.scope": "a b" }, { ext: { scope: "a b" } }), true);
    });

    it("never matches an empty word", () => {
      assert.equal(holds({ scope: "" }, { scope: "a  b" }), false);
    });
  });

  describe("lists and all", () => {
    it("a list is any-of", () => {
      const requirement = { role: ["admin", "owner"] };
      assert.equal(holds(requirement, { role: "owner" }), true);
      assert.equal(holds(requirement, { role: ["user", "admin"] }), true);
      assert.equal(holds(requirement, { role: "user" }), false);
      assert.equal(holds({ scope: ["a", "b"] }, { scope: "c b" }), true);
    });

    it("{ all: [...] } needs every value", () => {
      const requirement = { scope: { all: ["chat:read", "chat:write"] } };
      assert.equal(holds(requirement, { scope: "chat:write chat:read" }), true);
      assert.equal(holds(requirement, { scope: "chat:read" }), false);
      assert.equal(holds({ roles: { all: ["a", "b"] } }, { roles: ["b", "a", "c"] }), true);
      assert.equal(holds({ roles: { all: ["a", "b"] } }, { roles: "a" }), false);
      assert.equal(holds({ roles: { all: ["a"] } }, { roles: "a" }), true);
    });

    it("an empty list or all never holds", () => {
      assert.equal(holds({ role: [] }, { role: "admin" }), false);
      assert.equal(holds({ role: { all: [] } }, { role: "admin" }), false);
    });

    it("keys are ANDed", () => {
      const requirement = { role: "admin", tenant: "acme" };
      assert.equal(holds(requirement, { role: "admin", tenant: "acme" }), true);
      assert.equal(holds(requirement, { role: "admin", tenant: "other" }), false);
    });
  });

  describe("paths", () => {
    it("walks dotted keys through own properties", () => {
      const claims = fromJson('{"realm_access":{"roles":["admin"]},"org":{"team":{"id":7}}}');
      assert.equal(holds({ "realm_access.roles": "admin" }, claims), true);
      assert.equal(holds({ "org.team.id": 7 }, claims), true);
      assert.equal(holds({ "org.team.id": 8 }, claims), false);
    });

    it("never walks into arrays", () => {
      const claims = fromJson('{"orgs":[{"id":"acme"}],"list":["a","b"]}');
      assert.equal(holds({ "orgs.0.id": "acme" }, claims), false);
      assert.equal(holds({ "list.0": "a" }, claims), false);
      assert.equal(holds({ "list.length": 2 }, claims), false);
    });

    it("never reaches the prototype: __proto__, constructor, toString", () => {
      const claims = fromJson('{"role":"user"}');
      assert.equal(holds({ "constructor.name": "Object" }, claims), false);
      assert.equal(holds({ "__proto__.constructor.name": "Object" }, claims), false);
      assert.equal(holds({ "role.length": 4 }, claims), false);
      assert.equal(holds({ "/__proto__/constructor/name": "Object" }, claims), false);
    });

    it("reads a claim literally named __proto__ when the token carries one (it is the token's own data)", () => {
      const claims = fromJson('{"__proto__":{"admin":true}}');
      assert.equal(holds({ "__proto__.admin": true }, claims), true);
      assert.equal(holds({ admin: true }, claims), false);
    });

    it("reads JSON Pointer keys, for claim names holding dots or slashes", () => {
      const claims = fromJson('{"https://example.com/roles":["admin"],"a.b":"dotted","t~x":{"y/z":1}}');
      assert.equal(holds({ "/https:~1~1example.com~1roles": "admin" }, claims), true);
      assert.equal(holds({ "/a.b": "dotted" }, claims), true);
      assert.equal(holds({ "a.b": "dotted" }, claims), false);
      assert.equal(holds({ "/t~0x/y~1z": 1 }, claims), true);
    });

    it("decodes ~01 as ~1, not /", () => {
      assert.deepEqual(claimPath("/a~01b"), ["a~1b"]);
      assert.deepEqual(claimPath("/a~1b/c"), ["a/b", "c"]);
      assert.deepEqual(claimPath("x.y"), ["x", "y"]);
    });
  });

  describe("anonymous and odd inputs", () => {
    it("anonymous (no claims) fails every requirement, even an empty one", () => {
      assert.equal(holds({ role: "admin" }, undefined), false);
      assert.equal(holds({}, undefined), false);
      assert.equal(holds({}, {}), true);
    });

    it("refuses requirement values the language does not allow", () => {
      assert.throws(
        () => compileClaimsRequirement({ role: { any: ["a"] } } as unknown as ClaimsRequirement),
        TypeError,
      );
      assert.throws(
        () => compileClaimsRequirement({ role: null } as unknown as ClaimsRequirement),
        TypeError,
      );
      assert.throws(
        () => compileClaimsRequirement({ role: [["a"]] } as unknown as ClaimsRequirement),
        TypeError,
      );
    });
  });
});
