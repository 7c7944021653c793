import assert from "node:assert/strict";
import type { Socket as ClientSocket } from "socket.io-client";
import type { Decision, Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply, type ClientOptions } from "../../helpers/clients.js";
import { startReloadableServer } from "../../helpers/guarded-server.js";
import { claimsFor, createSecret, hs256Issuer, signWithSecret } from "../../helpers/tokens.js";
import { waitUntil } from "../../helpers/wait.js";

const SERVICES = "urn:test:services";
const PARTNERS = "urn:test:partners";
const SERVICES_SECRET = createSecret();
const PARTNERS_SECRET = createSecret();
const SITE_A = "https://a.example.test";
const SITE_B = "https://b.example.test";

const HELLO = { hello: { args: [] } };
const SERVICES_ISSUER = hs256Issuer(SERVICES, SERVICES_SECRET, "chat");
const PARTNERS_ISSUER = hs256Issuer(PARTNERS, PARTNERS_SECRET, "chat");
const BOTH_ISSUERS = { services: SERVICES_ISSUER, partners: PARTNERS_ISSUER };

const servicesToken = (sub: string, claims: Record<string, unknown> = {}): Promise<string> =>
  signWithSecret(SERVICES_SECRET, claimsFor(SERVICES, "chat", { sub, ...claims }));
const partnersToken = (sub: string): Promise<string> =>
  signWithSecret(PARTNERS_SECRET, claimsFor(PARTNERS, "chat", { sub }));

/** A connected client, its socket id, and what it was told, in order. */
interface Watched {
  readonly client: ClientSocket;
  readonly namespace: string;
  readonly id: string;
  readonly log: string[];
}

const POLICY_CHANGED_THEN_DISCONNECT = ["sockguard:denied policy_changed", "disconnect io server disconnect"];

describe("guard: recheck of live sockets after a reload", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let url: string;
  let decisions: Decision[];
  let reloadWith: (policy: Policy) => Promise<void>;

  /** A server guarded by `policy` (a file, reloaded with guard.reload()), answering `hello` everywhere. */
  async function startGuarded(policy: Policy): Promise<void> {
    const server = await startReloadableServer(cleanup, policy);
    ({ url, decisions, reloadWith } = server);
    for (const name of Object.keys(policy.namespaces ?? {})) {
      server.io
        .of(name)
        .on("connection", (socket) => socket.on("hello", (ack: (r: string) => void) => ack("hi")));
    }
  }

  function watch(client: ClientSocket, namespace: string): Watched {
    const log: string[] = [];
    client.on("sockguard:denied", (body: { code: string }) => log.push(`sockguard:denied ${body.code}`));
    client.on("disconnect", (reason) => log.push(`disconnect ${reason}`));
    return { client, namespace, id: client.id!, log };
  }

  async function connectWatched(namespace: string, options: ClientOptions): Promise<Watched> {
    const client = createClient(cleanup, url, namespace, options);
    await connected(client);
    return watch(client, namespace);
  }

  /**
   * Exactly `gone` were told policy_changed, then disconnected, each with a policy_changed decision
   * at the recheck stage naming the policy key that refused it (`rulePath`); every socket in `kept`
   * was told nothing and still answers.
   */
  async function assertRecheck(
    gone: readonly Watched[],
    kept: readonly Watched[],
    rulePath: string | ((w: Watched) => string),
  ): Promise<void> {
    await waitUntil(() => gone.every((w) => w.log.length >= 2), 3000, "the disconnects");
    for (const w of gone) assert.deepEqual(w.log, POLICY_CHANGED_THEN_DISCONNECT, `socket of ${w.namespace}`);
    for (const w of kept) {
      assert.equal(await emitWithReply(w.client, "hello"), "hi");
      assert.deepEqual(w.log, [], `a kept socket of ${w.namespace}`);
    }
    const byId = (a: readonly string[], b: readonly string[]): number => a.join().localeCompare(b.join());
    assert.deepEqual(
      decisions.map((d) => [d.code, d.stage, d.namespace ?? "", d.socketId ?? ""]).sort(byId),
      gone.map((w) => ["policy_changed", "recheck", w.namespace, w.id]).sort(byId),
    );
    const pathOf = typeof rulePath === "string" ? () => rulePath : rulePath;
    assert.deepEqual(
      decisions.map((d) => [d.socketId ?? "", d.rule?.path ?? ""]).sort(byId),
      gone.map((w) => [w.id, pathOf(w)]).sort(byId),
    );
  }

  it("removing an origin disconnects exactly the sockets whose handshake came from it", async () => {
    const withOrigins = (origins: string[]): Policy => ({
      version: 1,
      connection: { origins },
      namespaces: { "/chat": { auth: "none", events: HELLO } },
    });
    await startGuarded(withOrigins([SITE_A, SITE_B]));
    const from = (origin: string, transport: "polling" | "websocket"): Promise<Watched> =>
      connectWatched("/chat", { transports: [transport], extraHeaders: { origin } });
    const [aWs, aPolling, bWs, bPolling] = await Promise.all([
      from(SITE_A, "websocket"),
      from(SITE_A, "polling"),
      from(SITE_B, "websocket"),
      from(SITE_B, "polling"),
    ]);
    await reloadWith(withOrigins([SITE_A]));
    await assertRecheck([bWs, bPolling], [aWs, aPolling], "/connection/origins");
  });

  it("removing an issuer from a namespace's issuers disconnects exactly that issuer's sockets there", async () => {
    const withChatIssuers = (issuers: string[]): Policy => ({
      version: 1,
      connection: { allowMissingOrigin: true },
      auth: { issuers: BOTH_ISSUERS },
      namespaces: {
        "/chat": { issuers, events: HELLO },
        "/staff": { issuers: ["services", "partners"], events: HELLO },
      },
    });
    await startGuarded(withChatIssuers(["services", "partners"]));
    const [chatServices, chatPartners, staffPartners] = await Promise.all([
      servicesToken("s1").then((token) =>
        connectWatched("/chat", { transports: ["websocket"], auth: { token } }),
      ),
      partnersToken("p1").then((token) =>
        connectWatched("/chat", { transports: ["polling"], auth: { token } }),
      ),
      partnersToken("p2").then((token) =>
        connectWatched("/staff", { transports: ["websocket"], auth: { token } }),
      ),
    ]);
    await reloadWith(withChatIssuers(["services"]));
    await assertRecheck([chatPartners], [chatServices, staffPartners], "/namespaces/~1chat/issuers");
  });

  it("removing an issuer from the policy disconnects exactly its sockets, in every namespace", async () => {
    const namespaces = (issuers: string[]): Policy["namespaces"] => ({
      "/chat": { issuers, events: HELLO },
      "/staff": { issuers, events: HELLO },
    });
    await startGuarded({
      version: 1,
      connection: { allowMissingOrigin: true },
      auth: { issuers: BOTH_ISSUERS },
      namespaces: namespaces(["services", "partners"]),
    });
    const [chatServices, chatPartners, staffServices, staffPartners] = await Promise.all([
      servicesToken("s1").then((token) =>
        connectWatched("/chat", { transports: ["websocket"], auth: { token } }),
      ),
      partnersToken("p1").then((token) =>
        connectWatched("/chat", { transports: ["websocket"], auth: { token } }),
      ),
      servicesToken("s2").then((token) =>
        connectWatched("/staff", { transports: ["polling"], auth: { token } }),
      ),
      partnersToken("p2").then((token) =>
        connectWatched("/staff", { transports: ["polling"], auth: { token } }),
      ),
    ]);
    await reloadWith({
      version: 1,
      connection: { allowMissingOrigin: true },
      auth: { issuers: { services: SERVICES_ISSUER } },
      namespaces: namespaces(["services"]),
    });
    await assertRecheck(
      [chatPartners, staffPartners],
      [chatServices, staffServices],
      (w) => `/namespaces/~1${w.namespace.slice(1)}/issuers`,
    );
  });

  it("pointing an issuer at another iss disconnects exactly the sockets holding the old iss's tokens", async () => {
    const withServicesIss = (iss: string): Policy => ({
      version: 1,
      connection: { allowMissingOrigin: true },
      auth: { issuers: { services: hs256Issuer(iss, SERVICES_SECRET, "chat"), partners: PARTNERS_ISSUER } },
      namespaces: { "/chat": { issuers: ["services", "partners"], events: HELLO } },
    });
    await startGuarded(withServicesIss(SERVICES));
    const [services, partners] = await Promise.all([
      servicesToken("s1").then((token) =>
        connectWatched("/chat", { transports: ["websocket"], auth: { token } }),
      ),
      partnersToken("p1").then((token) =>
        connectWatched("/chat", { transports: ["websocket"], auth: { token } }),
      ),
    ]);
    // The same name and secret, another iss: a token carrying the old iss would now be refused.
    await reloadWith(withServicesIss("urn:test:services-next"));
    await assertRecheck([services], [partners], "/namespaces/~1chat/issuers");
  });

  it("tightening a namespace's require disconnects exactly the sockets whose claims no longer hold", async () => {
    const withRequire = (require: Record<string, string | string[]>): Policy => ({
      version: 1,
      connection: { allowMissingOrigin: true },
      auth: { issuers: { services: SERVICES_ISSUER } },
      namespaces: { "/chat": { require, events: HELLO }, "/news": { events: HELLO } },
    });
    await startGuarded(withRequire({ scope: "chat:read" }));
    const as = (namespace: string, sub: string, claims: Record<string, unknown>): Promise<Watched> =>
      servicesToken(sub, claims).then((token) =>
        connectWatched(namespace, { transports: ["websocket"], auth: { token } }),
      );
    const [reader, writer, admin, readerOnNews] = await Promise.all([
      as("/chat", "reader", { scope: "chat:read" }),
      as("/chat", "writer", { scope: "chat:read chat:write" }),
      as("/chat", "admin", { scope: "chat:read", role: ["staff", "admin"] }),
      as("/news", "reader", { scope: "chat:read" }),
    ]);
    await reloadWith(withRequire({ scope: "chat:read", role: ["admin", "owner"] }));
    await assertRecheck([reader, writer], [admin, readerOnNews], "/namespaces/~1chat/require/role");
  });

  it("removing a namespace disconnects exactly its sockets, also one sharing a connection with a kept one", async () => {
    const withNamespaces = (names: string[]): Policy => ({
      version: 1,
      connection: { allowMissingOrigin: true },
      namespaces: Object.fromEntries(names.map((name) => [name, { auth: "none", events: HELLO }])),
    });
    await startGuarded(withNamespaces(["/chat", "/news"]));
    const [chat, newsWs, newsPolling] = await Promise.all([
      connectWatched("/chat", { transports: ["websocket"] }),
      connectWatched("/news", { transports: ["websocket"] }),
      connectWatched("/news", { transports: ["polling"] }),
    ]);
    // A /news socket multiplexed on the /chat client's connection.
    const sharedClient = chat.client.io.socket("/news");
    await connected(sharedClient);
    const shared = watch(sharedClient, "/news");
    await reloadWith(withNamespaces(["/chat"]));
    await assertRecheck([newsWs, newsPolling, shared], [chat], "/namespaces");
  });

  it("removing a transport disconnects exactly the sockets using it", async () => {
    const withTransports = (transports: Array<"polling" | "websocket">): Policy => ({
      version: 1,
      connection: { allowMissingOrigin: true, transports },
      namespaces: { "/chat": { auth: "none", events: HELLO } },
    });
    await startGuarded(withTransports(["polling", "websocket"]));
    const [ws, polling] = await Promise.all([
      connectWatched("/chat", { transports: ["websocket"] }),
      connectWatched("/chat", { transports: ["polling"] }),
    ]);
    await reloadWith(withTransports(["polling"]));
    await assertRecheck([ws], [polling], "/connection/transports");
  });

  it("requiring TLS disconnects exactly the sockets whose handshake was not over TLS", async () => {
    const withTls = (requireTls: boolean): Policy => ({
      version: 1,
      connection: { allowMissingOrigin: true, trustedProxies: ["127.0.0.1"], requireTls },
      namespaces: { "/chat": { auth: "none", events: HELLO } },
    });
    await startGuarded(withTls(false));
    const [behindHttps, plain] = await Promise.all([
      connectWatched("/chat", { transports: ["websocket"], extraHeaders: { "x-forwarded-proto": "https" } }),
      connectWatched("/chat", { transports: ["websocket"] }),
    ]);
    await reloadWith(withTls(true));
    await assertRecheck([plain], [behindHttps], "/connection/requireTls");
  });

  it("a namespace that stops allowing missing Origin disconnects exactly its sockets that came without one", async () => {
    const withServiceAccess = (allowMissingOrigin: boolean): Policy => ({
      version: 1,
      connection: { origins: [SITE_A] },
      namespaces: {
        "/service": { auth: "none", allowMissingOrigin, events: HELLO },
        "/jobs": { auth: "none", allowMissingOrigin: true, events: HELLO },
      },
    });
    await startGuarded(withServiceAccess(true));
    const [serviceBare, serviceFromSite, jobsBare] = await Promise.all([
      connectWatched("/service", { transports: ["websocket"] }),
      connectWatched("/service", { transports: ["polling"], extraHeaders: { origin: SITE_A } }),
      connectWatched("/jobs", { transports: ["polling"] }),
    ]);
    await reloadWith(withServiceAccess(false));
    await assertRecheck([serviceBare], [serviceFromSite, jobsBare], "/connection/origins");
  });
});
