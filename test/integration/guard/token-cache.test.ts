import assert from "node:assert/strict";
import { Registry } from "prom-client";
import type { Socket as ClientSocket } from "socket.io-client";
import { sockguard, type Guard, type Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, refused } from "../../helpers/clients.js";
import { startReloadableServer, startGuardedServer } from "../../helpers/guarded-server.js";
import { claimsFor, createSecret, hs256Issuer, signWithSecret } from "../../helpers/tokens.js";
import { Server } from "socket.io";

const ISS = "urn:test:services";
const SECRET = createSecret();

const policy = (secret = SECRET): Policy => ({
  version: 1,
  connection: { allowMissingOrigin: true },
  auth: { issuers: { services: hs256Issuer(ISS, secret, "chat") } },
  namespaces: {
    "/chat": { require: { scope: "chat:read" }, events: { ping: { args: [] } } },
    "/admin": { require: { role: "admin" }, events: { ping: { args: [] } } },
  },
});

/** Two issuers: `services` (the tokens here) and `partners`, the only one `/partners` trusts. */
const twoIssuers = (): Policy => {
  const base = policy();
  return {
    ...base,
    auth: {
      issuers: {
        ...base.auth!.issuers,
        partners: hs256Issuer("urn:test:partners", createSecret(), "chat"),
      },
    },
    namespaces: {
      "/chat": { ...base.namespaces["/chat"], issuers: ["services"] },
      "/partners": { issuers: ["partners"], events: { ping: { args: [] } } },
    },
  };
};

const token = (claims: Record<string, unknown> = {}): Promise<string> =>
  signWithSecret(SECRET, claimsFor(ISS, "chat", { sub: "u1", scope: "chat:read", ...claims }));

async function cacheCount(register: Registry, result: "hit" | "miss"): Promise<number> {
  const metric = (await register.getMetricsAsJSON()).find((m) => m.name === "sockguard_token_cache_total");
  assert.ok(metric, "sockguard_token_cache_total is not registered");
  return (
    (metric.values as { labels: { result?: string }; value: number }[]).find(
      (value) => value.labels.result === result,
    )?.value ?? 0
  );
}

/** The app's namespaces, as an app creates them (a connect to a namespace that does not exist fails). */
function withNamespaces<T extends { io: Server }>(server: T): T {
  server.io.of("/chat");
  server.io.of("/admin");
  return server;
}

describe("guard: the verified-token cache", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  const connectTo = async (url: string, namespace: string, tokenValue: string): Promise<ClientSocket> => {
    const socket = createClient(cleanup, url, namespace, {
      transports: ["websocket"],
      auth: { token: tokenValue },
    });
    await connected(socket);
    return socket;
  };
  const refusalOf = async (url: string, namespace: string, tokenValue: string): Promise<string | undefined> =>
    (
      await refused(
        createClient(cleanup, url, namespace, { transports: ["websocket"], auth: { token: tokenValue } }),
      )
    ).data?.code;

  it("counts hits and misses, and a reconnect with the same token is a hit", async () => {
    const register = new Registry();
    const { url } = withNamespaces(
      await startGuardedServer(cleanup, { policy: policy(), metrics: register }),
    );
    const value = await token();
    (await connectTo(url, "/chat", value)).disconnect();
    (await connectTo(url, "/chat", value)).disconnect();
    (await connectTo(url, "/chat", await token({ sub: "u2" }))).disconnect();
    assert.equal(await cacheCount(register, "miss"), 2);
    assert.equal(await cacheCount(register, "hit"), 1);
  });

  it("still checks the namespace's claims on a cached identity", async () => {
    const { url } = withNamespaces(await startGuardedServer(cleanup, { policy: policy() }));
    const value = await token();
    (await connectTo(url, "/chat", value)).disconnect();
    assert.equal(await refusalOf(url, "/admin", value), "claims_not_satisfied");
  });

  it("still refuses a revoked subject whose token is cached", async () => {
    const { url, guard } = withNamespaces(await startGuardedServer(cleanup, { policy: policy() }));
    const value = await token();
    (await connectTo(url, "/chat", value)).disconnect();
    await guard.revoke({ sub: "u1" });
    assert.equal(await refusalOf(url, "/chat", value), "revoked");
  });

  it("refuses a cached token where its issuer is not trusted, as it refuses one never seen: no subject named", async () => {
    const server = await startGuardedServer(cleanup, { policy: twoIssuers(), decisions: "all" });
    server.io.of("/chat");
    server.io.of("/partners");
    const value = await token();
    const fresh = await token({ sub: "u9" });
    (await connectTo(server.url, "/chat", value)).disconnect();
    assert.equal(await refusalOf(server.url, "/partners", value), "issuer_not_allowed");
    assert.equal(await refusalOf(server.url, "/partners", fresh), "issuer_not_allowed");
    const refusals = server.decisions.filter((d) => d.code === "issuer_not_allowed");
    assert.equal(refusals.length, 2);
    assert.deepEqual(
      refusals.map((d) => d.subject),
      [undefined, undefined],
    );
  });

  it("refuses a cached token once a reload puts other keys in force", async () => {
    const server = withNamespaces(await startReloadableServer(cleanup, policy()));
    const value = await token();
    (await connectTo(server.url, "/chat", value)).disconnect();
    await server.reloadWith(policy(createSecret()));
    assert.equal(await refusalOf(server.url, "/chat", value), "token_invalid");
  });

  it("counts nothing with tokenCache: false, and refuses a malformed option", async () => {
    const register = new Registry();
    const { url } = withNamespaces(
      await startGuardedServer(cleanup, { policy: policy(), metrics: register, tokenCache: false }),
    );
    const value = await token();
    (await connectTo(url, "/chat", value)).disconnect();
    (await connectTo(url, "/chat", value)).disconnect();
    assert.equal(await cacheCount(register, "hit"), 0);
    assert.equal(await cacheCount(register, "miss"), 0);
    const io = new Server(); // never attached: nothing to close
    await assert.rejects(
      sockguard(io, { policy: policy(), tokenCache: { maxEntries: 0 } }) as Promise<Guard>,
      /options\.tokenCache\.maxEntries must be a whole number/,
    );
  });
});
