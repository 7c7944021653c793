/**
 * Namespace patterns (DESIGN §1.1): the grammar, the overlap check (a witness both match, or none),
 * the loader's diagnostics at both keys, and tenant binding in decide/ with captures compared exactly.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { compileLoaded } from "../../../src/compile/compile-loaded.js";
import { createCompileContext } from "../../../src/compile/auth.js";
import { compilePatternMatcher, findNamespace } from "../../../src/compile/namespace-lookup.js";
import type { CompiledPolicy, Identity } from "../../../src/compile/types.js";
import { ABSENT_TOKEN, decideConnect } from "../../../src/decide/connect.js";
import { loadPolicy } from "../../../src/policy/load.js";
import {
  isPatternProblem,
  parseNamespacePattern,
  patternOverlap,
  type NamespacePattern,
} from "../../../src/policy/namespace-pattern.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";

function pattern(key: string): NamespacePattern {
  const parsed = parseNamespacePattern(key);
  assert.ok(parsed && !isPatternProblem(parsed), `${key} parses`);
  return parsed;
}

describe("namespace patterns", () => {
  describe("grammar", () => {
    it("reads exact names as exact, and refuses malformed or ambiguous patterns", () => {
      assert.equal(parseNamespacePattern("/chat"), undefined);
      for (const key of ["/t-{", "/t-}", "/t-{1a}", "/{a}{b}", "/{a}-{a}", "/org-{org}.{team}"]) {
        assert.ok(isPatternProblem(parseNamespacePattern(key)), key);
      }
      assert.deepEqual(pattern("/org-{org}/team-{team}").names, ["org", "team"]);
    });
  });

  describe("overlap", () => {
    const cases: readonly [string, string, boolean][] = [
      ["/tenant-{tenant}", "/tenant-{id}", true],
      ["/t-{a}", "/{b}-x", true],
      ["/t-{a}", "/u-{b}", false],
      ["/t-{a}", "/t-{b}/x", false],
      ["/a/{x}", "/{y}/b", true],
      // 65 segment characters after /x: more than one segment can take.
      ["/x{a}", `/x${"b".repeat(64)}{c}`, false],
      ["/x{a}", `/x${"b".repeat(63)}{c}`, true],
      ["/{a}", "/{b}:{c}", false],
    ];
    for (const [a, b, overlaps] of cases) {
      it(`${a} and ${b} ${overlaps ? "overlap" : "do not"}`, () => {
        const shared = patternOverlap(pattern(a), pattern(b));
        assert.equal(shared !== undefined, overlaps);
        if (shared !== undefined) {
          assert.match(shared, compilePatternMatcher(pattern(a)));
          assert.match(shared, compilePatternMatcher(pattern(b)));
        }
      });
    }
  });

  describe("in a policy", () => {
    const cleanup = new Cleanup();
    after(() => cleanup.run());

    const policyText = (namespaces: string): string => `version: 1
auth:
  issuers:
    idp: { issuer: urn:idp, secret: "${"s".repeat(32)}", audience: any, algorithms: [HS256] }
namespaces:
${namespaces}`;

    async function load(namespaces: string): ReturnType<typeof loadPolicy> {
      const dir = await writePolicyFiles(cleanup, { "policy.yaml": policyText(namespaces) });
      return loadPolicy(join(dir, "policy.yaml"));
    }

    it("reports two patterns that can match one name at both keys, each naming the other's position", async () => {
      const loaded = await load(
        "  /tenant-{tenant}:\n    events: {}\n  /{area}-acme:\n    events: {}\n  /tenant-acme:\n    events: {}\n",
      );
      const errors = loaded.diagnostics.filter((d) => d.severity === "error");
      assert.deepEqual(
        errors.map((d) => [d.line, d.col]),
        [
          [6, 3],
          [8, 3],
        ],
      );
      assert.match(errors[0]!.message, /can both match "\/tenant-acme".*line 8, column 3/);
      assert.match(errors[1]!.message, /line 6, column 3/);
    });

    it("refuses a {name} in require that the pattern does not capture", async () => {
      const loaded = await load(
        '  /tenant-{tenant}:\n    require: { tenant_id: "{tenat}" }\n    events: {}\n',
      );
      assert.equal(loaded.policy, undefined);
      assert.match(loaded.diagnostics[0]!.message, /\{tenat\} names no segment/);
    });

    describe("tenant binding", () => {
      let policy: CompiledPolicy;
      const identity = (claims: Record<string, unknown>): Identity => ({
        issuer: "idp",
        iss: "urn:idp",
        claims,
        expiresAt: Date.now() + 3600_000,
      });
      const connect = (namespace: string, claims: Record<string, unknown>): string =>
        decideConnect(policy, {
          namespace,
          token: { kind: "verified", identity: identity(claims) },
          now: Date.now(),
        }).code;

      before(async () => {
        const loaded = await load(
          '  /tenant-{tenant}:\n    require: { tenant_id: "{tenant}" }\n    events: {}\n' +
            "  /tenant-lobby:\n    auth: none\n    events: {}\n",
        );
        assert.deepEqual(loaded.diagnostics, []);
        const context = createCompileContext();
        cleanup.add(() => context.remoteKeySets.close());
        const outcome = compileLoaded(loaded, context);
        assert.ok(outcome.ok);
        policy = outcome.compiled;
      });

      it("admits a tenant to its own namespace and refuses it another's, claims_not_satisfied", () => {
        assert.equal(connect("/tenant-acme", { tenant_id: "acme" }), "allowed");
        assert.equal(connect("/tenant-globex", { tenant_id: "acme" }), "claims_not_satisfied");
      });

      it("compares the captured value exactly: no case folding, no prefix", () => {
        assert.equal(connect("/tenant-ACME", { tenant_id: "acme" }), "claims_not_satisfied");
        assert.equal(connect("/tenant-acme2", { tenant_id: "acme" }), "claims_not_satisfied");
        assert.equal(connect("/tenant-acme", { tenant_id: "acm" }), "claims_not_satisfied");
        assert.equal(connect("/tenant-acme", { tenant_id: ["globex", "acme"] }), "allowed");
      });

      it("lets an exact key win over the pattern", () => {
        assert.equal(findNamespace(policy, "/tenant-lobby")?.namespace.name, "/tenant-lobby");
        assert.equal(
          decideConnect(policy, { namespace: "/tenant-lobby", token: ABSENT_TOKEN, now: 0 }).code,
          "allowed",
        );
      });

      it("refuses names the pattern almost matches, namespace_not_allowed", () => {
        for (const name of [
          "/tenant-acme/x",
          "/tenant-",
          `/tenant-${"a".repeat(65)}`,
          "/tenant-\u0430cme", // Cyrillic а
          "/tenant-acme\u200B",
          "/Tenant-acme",
        ]) {
          assert.equal(connect(name, { tenant_id: "acme" }), "namespace_not_allowed", JSON.stringify(name));
        }
        assert.equal(connect(`/tenant-${"a".repeat(64)}`, { tenant_id: "a".repeat(64) }), "allowed");
      });
    });
  });
});
