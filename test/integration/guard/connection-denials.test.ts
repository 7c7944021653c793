/**
 * `maxDenials` belongs to the Engine.IO connection: refused events, refused re-authentications and
 * refused namespace connects of every namespace on it count together, a new CONNECT gets no new
 * budget, and going over the budget closes the whole connection.
 */
import assert from "node:assert/strict";
import type { Server } from "socket.io";
import { Manager } from "socket.io-client";
import type { Decision, Policy } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, RawSocketIoClient } from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";
import { claimsFor, createSecret, hs256Issuer, signWithSecret } from "../../helpers/tokens.js";
import { delay, nextEvent, waitUntil } from "../../helpers/wait.js";

const ISS = "urn:test:services";
const SECRET = createSecret();
const MAX_DENIALS = 5;
const TOO_MANY = { code: "too_many_denials", message: "Too many refused requests on this connection" };

const POLICY: Policy = {
  version: 1,
  connection: { allowMissingOrigin: true, maxDenials: `${MAX_DENIALS}/1m` },
  auth: { issuers: { services: hs256Issuer(ISS, SECRET) } },
  namespaces: {
    "/": { auth: "none", events: { ping: { args: [] } } },
    "/chat": { auth: "none", events: { ping: { args: [] } } },
    "/private": { auth: "required", events: {} },
  },
};

describe("guard: maxDenials per connection", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let io: Server;
  let url: string;
  let decisions: Decision[];

  beforeEach(async () => {
    ({ io, url, decisions } = await startGuardedServer(cleanup, { policy: POLICY }));
    // A namespace the app serves and the policy does not list: the guard refuses every connect to it.
    io.of("/admin").on("connection", () => undefined);
    for (const name of ["/chat", "/private"]) io.of(name).on("connection", () => undefined);
  });

  it("cuts off 1,000 connect / refused event / disconnect cycles on one connection after maxDenials", async () => {
    const raw = await RawSocketIoClient.connect(cleanup, url, "/");
    let cycles = 0;
    for (; cycles < 1000 && !raw.closed; cycles++) {
      raw.sendEvent('["nope"]', 1);
      await raw.ackFor(1, 1000).catch(() => undefined);
      raw.sendPacket("1");
      // Socket.IO drops the socket on a later tick: a CONNECT before that would close the connection.
      await delay(2);
      raw.sendPacket("0");
      await raw.nextPacket((p) => p.startsWith("0") || raw.closed, 1000).catch(() => undefined);
    }
    await waitUntil(() => raw.closed, 2000, "the connection closing");
    assert.ok(cycles <= MAX_DENIALS + 2, `${cycles} cycles`);
    assert.equal(decisions.filter((d) => d.code === "too_many_denials").length, 1);
  });

  it("cuts off 1,000 refused namespace connects on one connection after maxDenials", async () => {
    const raw = await RawSocketIoClient.connect(cleanup, url, "/");
    for (let i = 0; i < 1000; i++) raw.sendPacket("0/admin,");
    await waitUntil(() => raw.closed, 3000, "the connection closing");
    const refusals = raw.packets.filter((p) => p.startsWith("4/admin,"));
    assert.ok(refusals.length <= MAX_DENIALS + 1, `${refusals.length} refusals answered`);
    assert.equal(refusals.length, MAX_DENIALS + 1);
    // The namespace socket already on the connection was told why before the connection closed.
    assert.ok(
      raw.packets.includes(`2${JSON.stringify(["sockguard:denied", TOO_MANY])}`),
      raw.packets.join(" | "),
    );
    assert.ok(raw.packets.includes("1"), "the namespace socket is disconnected");
    const counted = decisions.filter((d) => d.code === "namespace_not_allowed").length;
    assert.ok(counted <= MAX_DENIALS + 1, `${counted} connects judged`);
  });

  it("cuts off bad tokens tried again and again on one connection", async () => {
    const raw = await RawSocketIoClient.connect(cleanup, url, "/");
    const wrongSecret = await signWithSecret(createSecret(), claimsFor(ISS, undefined));
    for (let i = 0; i < 50 && !raw.closed; i++) {
      raw.sendPacket(`0/private,${JSON.stringify({ token: i % 2 ? "not a token" : wrongSecret })}`);
      await raw.nextPacket((p) => p.startsWith("4/private,"), 1000).catch(() => undefined);
    }
    await waitUntil(() => raw.closed, 2000, "the connection closing");
    const tokenRefusals = decisions.filter((d) => d.code === "token_invalid").length;
    assert.equal(tokenRefusals, MAX_DENIALS + 1);
  });

  for (const transport of ["websocket", "polling"] as const) {
    it(`adds up denials of two namespaces on one connection and closes both sockets, telling each why (${transport})`, async () => {
      const manager = new Manager(url, { transports: [transport], reconnection: false, autoConnect: true });
      cleanup.add(() => manager.engine?.close());
      const root = manager.socket("/");
      const chat = manager.socket("/chat");
      await Promise.all([connected(root), connected(chat)]);
      const told: string[] = [];
      root.on("sockguard:denied", (body: { code: string }) => told.push(`/:${body.code}`));
      chat.on("sockguard:denied", (body: { code: string }) => told.push(`/chat:${body.code}`));
      const reasons = Promise.all([
        nextEvent<[string]>(root, "disconnect"),
        nextEvent<[string]>(chat, "disconnect"),
      ]);
      for (let i = 0; i < 3; i++) root.emit("nope");
      await delay(50);
      for (let i = 0; i < 3; i++) chat.emit("nope");
      assert.deepEqual(
        (await reasons).map(([reason]) => reason),
        ["io server disconnect", "io server disconnect"],
      );
      assert.ok(told.includes("/:too_many_denials") && told.includes("/chat:too_many_denials"), told.join());
      await waitUntil(() => io.engine.clientsCount === 0, 2000, "the engine connection closing");
    });
  }

  it("gives a second connection of the same client its own budget", async () => {
    const first = createClient(cleanup, url, "/", { transports: ["websocket"] });
    const second = createClient(cleanup, url, "/", { transports: ["websocket"] });
    await Promise.all([connected(first), connected(second)]);
    const firstGone = nextEvent<[string]>(first, "disconnect");
    for (let i = 0; i <= MAX_DENIALS; i++) first.emit("nope");
    assert.equal((await firstGone)[0], "io server disconnect");
    for (let i = 0; i < MAX_DENIALS; i++) second.emit("nope");
    await delay(100);
    assert.equal(second.connected, true);
  });
});
