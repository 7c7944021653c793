/**
 * Pattern namespaces on a real server: dynamic children of `io.of(regex)` and `io.of(fn)` judged
 * by `/tenant-{tenant}`, tenant isolation through `require: { tenant_id: "{tenant}" }`, names the
 * pattern almost matches, decisions that name the pattern, and no child left behind a refusal.
 */
import assert from "node:assert/strict";
import type { Namespace, Server } from "socket.io";
import type { Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, refused } from "../../helpers/clients.js";
import {
  startGuardedServer,
  startReloadableServer,
  type GuardedServer,
} from "../../helpers/guarded-server.js";
import { waitUntil } from "../../helpers/wait.js";
import { claimsFor, createSecret, hs256Issuer, signWithSecret } from "../../helpers/tokens.js";

const ISS = "urn:test:idp";
const SECRET = createSecret();
const POLICY: Policy = {
  version: 1,
  connection: { allowMissingOrigin: true },
  auth: { issuers: { idp: hs256Issuer(ISS, SECRET) } },
  namespaces: {
    "/tenant-{tenant}": { require: { tenant_id: "{tenant}" }, unknownEvents: "allow" },
  },
};

const nsps = (io: Server): Map<string, Namespace> =>
  (io as unknown as { _nsps: Map<string, Namespace> })._nsps;

describe("guard: namespace patterns", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());
  let server: GuardedServer;

  const tokenOf = (tenant: string): Promise<string> =>
    signWithSecret(SECRET, claimsFor(ISS, undefined, { tenant_id: tenant }));
  const connectAs = async (name: string, tenant: string): Promise<ReturnType<typeof createClient>> =>
    createClient(cleanup, server.url, name, {
      transports: ["websocket"],
      auth: { token: await tokenOf(tenant) },
    });

  for (const parent of ["regex", "fn"] as const) {
    describe(`children of io.of(${parent})`, () => {
      beforeEach(async () => {
        server = await startGuardedServer(cleanup, { policy: POLICY, decisions: "all" });
        if (parent === "regex") server.io.of(/^\/tenant-.*$/su);
        else server.io.of((_name, _auth, next) => next(null, true));
      });

      it("admits a tenant to its own namespace, and the decision names the pattern", async () => {
        await connected(await connectAs("/tenant-acme", "acme"));
        assert.equal(nsps(server.io).has("/tenant-acme"), true);
        const connects = server.decisions.filter((d) => d.stage === "connect");
        assert.deepEqual(
          connects.map((d) => [d.code, d.namespace]),
          [["allowed", "/tenant-{tenant}"]],
        );
      });

      it("refuses a tenant crossing claims_not_satisfied and leaves no child behind", async () => {
        const refusal = await refused(await connectAs("/tenant-globex", "acme"));
        assert.equal(refusal.data?.code, "claims_not_satisfied");
        assert.equal(nsps(server.io).has("/tenant-globex"), false);
        assert.deepEqual(
          server.decisions.filter((d) => d.stage === "connect").map((d) => [d.code, d.namespace]),
          [["claims_not_satisfied", "/tenant-{tenant}"]],
        );
      });

      it("refuses names the pattern almost matches namespace_not_allowed, leaving no child", async () => {
        const names = ["/tenant-acme/x", "/tenant-", `/tenant-${"a".repeat(65)}`, "/tenant-\u0430cme"];
        for (const name of names) {
          const refusal = await refused(await connectAs(name, "acme"));
          assert.equal(refusal.data?.code, "namespace_not_allowed", JSON.stringify(name));
        }
        for (const name of names) assert.equal(nsps(server.io).has(name), false, JSON.stringify(name));
        assert.ok(server.decisions.every((d) => d.namespace === undefined));
      });
    });
  }

  it("re-judges pattern namespaces after a reload: the same binding keeps the socket, a changed one disconnects it", async () => {
    const reloadable = await startReloadableServer(cleanup, POLICY);
    server = reloadable;
    server.io.of(/^\/tenant-.*$/);
    const client = await connectAs("/tenant-acme", "acme");
    await connected(client);
    // The same binding written again, with a new key beside it: the tenant's socket stays.
    await reloadable.reloadWith({
      ...POLICY,
      namespaces: { "/tenant-{tenant}": { ...POLICY.namespaces["/tenant-{tenant}"], auth: "required" } },
    });
    assert.equal(nsps(server.io).get("/tenant-acme")?.sockets.size, 1);
    await reloadable.reloadWith({
      ...POLICY,
      namespaces: { "/tenant-{tenant}": { require: { tenant_id: "org-{tenant}" }, unknownEvents: "allow" } },
    });
    await waitUntil(() => !client.connected, 3000, "the disconnect");
    assert.deepEqual(
      server.decisions.filter((d) => d.stage === "recheck").map((d) => [d.code, d.namespace]),
      [["policy_changed", "/tenant-{tenant}"]],
    );
  });
});
