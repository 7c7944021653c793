import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import type { Socket as ClientSocket } from "socket.io-client";
import type { Guard, Policy } from "../../../src/index.js";
import { CLOSING_TRANSPORT_CAP_MS } from "../../../src/enforce/feedback.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply, rawRequest, sessionIdOf } from "../../helpers/clients.js";
import { startReloadableServer } from "../../helpers/guarded-server.js";
import { claimsFor, createSecret, epoch, hs256Issuer, signWithSecret } from "../../helpers/tokens.js";
import { delay, waitUntil } from "../../helpers/wait.js";

const SERVICES = "urn:test:services";
const SECRET = createSecret();
const HELLO = { hello: { args: [] } };
/** Long enough for socket.io-client's first reconnection attempt (its delay is set to 100 ms here). */
const NO_RECONNECT_WINDOW_MS = 1500;

/** The engine.io v4 polling payload separator. */
const SEPARATOR = "\x1e";

type TransportName = "polling" | "websocket";
const TRANSPORTS: readonly TransportName[] = ["polling", "websocket"];

interface PolicyShape {
  readonly transports?: TransportName[];
  readonly namespaces?: string[];
  readonly require?: Record<string, string>;
}

/** A policy with an HS256 issuer; every namespace needs a token of it (and `require`, on /chat). */
const policyOf = ({
  transports = ["polling", "websocket"],
  namespaces = ["/chat", "/news"],
  require,
}: PolicyShape = {}): Policy => ({
  version: 1,
  connection: { allowMissingOrigin: true, transports },
  auth: { clockTolerance: "0s", issuers: { services: hs256Issuer(SERVICES, SECRET, "chat") } },
  namespaces: Object.fromEntries(
    namespaces.map((name) => [
      name,
      { issuers: ["services"], events: HELLO, ...(name === "/chat" && require ? { require } : {}) },
    ]),
  ),
});

const tokenFor = (sub: string, claims: Record<string, unknown> = {}): Promise<string> =>
  signWithSecret(SECRET, claimsFor(SERVICES, "chat", { sub, role: "member", ...claims }));

/** A socket.io-client socket that reconnects on its own, as an app's would, and what it was told. */
interface Watched {
  readonly client: ClientSocket;
  readonly log: string[];
  reconnectAttempts: number;
}

describe("guard: every guard disconnect reads `io server disconnect`, on every transport", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let url: string;
  let guard: Guard;
  let reloadWith: (policy: Policy) => Promise<void>;
  /** Engine.IO handshakes (requests without a `sid`) the server received, refused ones included. */
  let handshakes: number;
  /** The transports engine.io accepts requests of, now. */
  let engineTransports: () => string[];

  async function startGuarded(policy: Policy): Promise<void> {
    const server = await startReloadableServer(cleanup, policy);
    ({ url, guard, reloadWith } = server);
    engineTransports = () => [...(server.io.engine.opts.transports ?? [])];
    handshakes = 0;
    const countHandshake = (req: IncomingMessage): void => {
      const query = new URL(req.url ?? "/", "http://x").searchParams;
      if (req.url?.startsWith("/socket.io/") && !query.get("sid")) handshakes += 1;
    };
    server.httpServer.prependListener("request", countHandshake);
    server.httpServer.prependListener("upgrade", countHandshake);
    for (const name of Object.keys(policy.namespaces ?? {})) {
      server.io
        .of(name)
        .on("connection", (socket) => socket.on("hello", (ack: (r: string) => void) => ack("hi")));
    }
  }

  async function connectWatched(
    namespace: string,
    transport: TransportName,
    token: string,
  ): Promise<Watched> {
    const client = createClient(cleanup, url, namespace, {
      transports: [transport],
      auth: { token },
      reconnection: true,
      reconnectionDelay: 100,
      reconnectionDelayMax: 200,
      randomizationFactor: 0,
    });
    await connected(client);
    const watched: Watched = { client, log: [], reconnectAttempts: 0 };
    client.on("sockguard:denied", (body: { code: string }) =>
      watched.log.push(`sockguard:denied ${body.code}`),
    );
    client.on("disconnect", (reason) => watched.log.push(`disconnect ${reason}`));
    client.io.on("reconnect_attempt", () => (watched.reconnectAttempts += 1));
    return watched;
  }

  /** `gone` was told `code`, then saw `io server disconnect`, and nothing tried to connect again. */
  async function assertDroppedForGood(gone: Watched, code: string, handshakesBefore: number): Promise<void> {
    await waitUntil(() => gone.log.length >= 2, 5000, "the disconnect");
    await delay(NO_RECONNECT_WINDOW_MS);
    assert.deepEqual(gone.log, [`sockguard:denied ${code}`, "disconnect io server disconnect"]);
    assert.equal(gone.reconnectAttempts, 0, "socket.io-client tried to reconnect");
    assert.equal(handshakes, handshakesBefore, "a new handshake reached the server");
  }

  for (const [removed, kept] of [
    ["polling", "websocket"],
    ["websocket", "polling"],
  ] as const) {
    it(`a reload to transports: [${kept}] drops the ${removed} socket for good and keeps the ${kept} one`, async () => {
      await startGuarded(policyOf());
      const [gone, stays] = await Promise.all([
        tokenFor("gone").then((token) => connectWatched("/chat", removed, token)),
        tokenFor("stays").then((token) => connectWatched("/chat", kept, token)),
      ]);
      const before = handshakes;
      await reloadWith(policyOf({ transports: [kept] }));
      await assertDroppedForGood(gone, "policy_changed", before);
      assert.equal(await emitWithReply(stays.client, "hello"), "hi");
      assert.deepEqual(stays.log, []);
    });
  }

  it("while the dropped polling connections flush, a new polling handshake is refused transport_not_allowed", async () => {
    await startGuarded(policyOf());
    // A polling client that never polls again: its connection stays open until the guard's time cap.
    const handshake = await rawRequest(`${url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(handshake.status, 200);
    const sid = sessionIdOf(handshake.body);
    const token = await tokenFor("raw");
    const session = `${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`;
    const connect = await rawRequest(session, {}, "POST", `40/chat,${JSON.stringify({ token })}`);
    assert.equal(connect.status, 200);
    const admitted = await rawRequest(session);
    assert.match(admitted.body, /^40\/chat,/);
    await reloadWith(policyOf({ transports: ["websocket"] }));
    const refusedHandshake = await rawRequest(`${url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(refusedHandshake.status, 403);
    assert.equal((JSON.parse(refusedHandshake.body) as { code: string }).code, "transport_not_allowed");
    // The dropped connection's next poll still reaches it: the notice and the DISCONNECT.
    const last = await rawRequest(session);
    assert.equal(last.status, 200);
    assert.match(last.body, /sockguard:denied/);
    assert.match(last.body, /41\/chat,/);
    // Then the whole connection closes: no second CONNECT gets a fresh socket on it.
    const closing = await rawRequest(session);
    assert.equal(closing.body.split(SEPARATOR).at(-1), "1", "the engine close packet");
    const again = await rawRequest(session, {}, "POST", `40/chat,${JSON.stringify({ token })}`);
    assert.equal(again.status, 400);
    // With it closed, the engine no longer takes polling at all.
    await waitUntil(() => engineTransports().join() === "websocket", 3000, "polling leaving the engine");
  });

  it("a polling connection that never polls again loses polling after the time cap", async () => {
    await startGuarded(policyOf());
    const handshake = await rawRequest(`${url}/socket.io/?EIO=4&transport=polling`);
    const session = `${url}/socket.io/?EIO=4&transport=polling&sid=${sessionIdOf(handshake.body)}`;
    const token = await tokenFor("idle");
    await rawRequest(session, {}, "POST", `40/chat,${JSON.stringify({ token })}`);
    assert.match((await rawRequest(session)).body, /^40\/chat,/);
    await reloadWith(policyOf({ transports: ["websocket"] }));
    assert.deepEqual(engineTransports(), ["websocket", "polling"], "polling kept for the closing connection");
    await delay(CLOSING_TRANSPORT_CAP_MS + 200);
    assert.deepEqual(engineTransports(), ["websocket"]);
    assert.equal((await rawRequest(session)).status, 400);
  });

  for (const transport of TRANSPORTS) {
    describe(`on ${transport}`, () => {
      it("guard.revoke: revoked, then io server disconnect, no reconnect", async () => {
        await startGuarded(policyOf());
        const gone = await connectWatched("/chat", transport, await tokenFor("alice"));
        const before = handshakes;
        assert.deepEqual(await guard.revoke({ sub: "alice" }), { disconnected: 1, nodes: 1 });
        await assertDroppedForGood(gone, "revoked", before);
      });

      it("a token that expires: token_expired, then io server disconnect, no reconnect", async () => {
        await startGuarded(policyOf());
        const gone = await connectWatched("/chat", transport, await tokenFor("bob", { exp: epoch(2) }));
        const before = handshakes;
        await assertDroppedForGood(gone, "token_expired", before);
      });

      it("a reload that removes the namespace: policy_changed, then io server disconnect, no reconnect", async () => {
        await startGuarded(policyOf());
        const gone = await connectWatched("/news", transport, await tokenFor("carol"));
        const before = handshakes;
        await reloadWith(policyOf({ namespaces: ["/chat"] }));
        await assertDroppedForGood(gone, "policy_changed", before);
      });

      it("a reload whose claims the socket no longer holds: policy_changed, then io server disconnect, no reconnect", async () => {
        await startGuarded(policyOf());
        const gone = await connectWatched("/chat", transport, await tokenFor("dave"));
        const before = handshakes;
        await reloadWith(policyOf({ require: { role: "admin" } }));
        await assertDroppedForGood(gone, "policy_changed", before);
      });
    });
  }
});
