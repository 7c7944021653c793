import assert from "node:assert/strict";
import type { Socket as ClientSocket } from "socket.io-client";
import type { Decision, Policy, SockguardIdentityView } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply } from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";
import { claimsFor, createSecret, epoch, hs256Issuer, signWithSecret } from "../../helpers/tokens.js";
import { delay, nextEvent, waitUntil } from "../../helpers/wait.js";

const SERVICES = "urn:test:services";
const PARTNERS = "urn:test:partners";
const SERVICES_SECRET = createSecret();
const PARTNERS_SECRET = createSecret();
/** The guard judges one renewal per socket every 3 s (docs/tokens.md). */
const REAUTH_INTERVAL_MS = 3000;

const policy = (maxDenials = "20/1m"): Policy => ({
  version: 1,
  connection: { allowMissingOrigin: true, maxDenials },
  auth: {
    clockTolerance: "1s",
    issuers: {
      services: hs256Issuer(SERVICES, SERVICES_SECRET, "chat"),
      partners: hs256Issuer(PARTNERS, PARTNERS_SECRET, "chat"),
    },
  },
  namespaces: {
    "/chat": {
      issuers: ["services", "partners"],
      require: { scope: "chat:read" },
      events: { whoami: { args: [] }, note: { args: [{ type: "string" }] } },
    },
    "/staff": {
      issuers: ["services"],
      require: { scope: "chat:read" },
      events: { whoami: { args: [] } },
    },
    "/lobby": { auth: "optional", issuers: ["services"], events: { whoami: { args: [] } } },
  },
});

const servicesToken = (claims: Record<string, unknown> = {}): Promise<string> =>
  signWithSecret(SERVICES_SECRET, claimsFor(SERVICES, "chat", { sub: "u1", scope: "chat:read", ...claims }));
const partnersToken = (claims: Record<string, unknown> = {}): Promise<string> =>
  signWithSecret(PARTNERS_SECRET, claimsFor(PARTNERS, "chat", { sub: "u1", scope: "chat:read", ...claims }));

interface ErrorReply {
  readonly error: { readonly code: string; readonly message: string };
}

const reauth = (client: ClientSocket, payload: unknown): Promise<unknown> =>
  emitWithReply(client, "sockguard:reauth", payload);
const refusalCode = (reply: unknown): string | undefined => (reply as Partial<ErrorReply>).error?.code;
const isAccepted = (reply: unknown): boolean => (reply as { ok?: unknown }).ok === true;

describe("guard: sockguard:reauth", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let url: string;
  let decisions: Decision[];
  /** Everything the app's listeners (onAny, and a handler for the reserved name) received. */
  let appSaw: unknown[][];

  async function startServer(maxDenials?: string): Promise<void> {
    appSaw = [];
    const server = await startGuardedServer(cleanup, { policy: policy(maxDenials) });
    url = server.url;
    decisions = server.decisions;
    for (const name of ["/chat", "/staff", "/lobby"]) {
      server.io.of(name).on("connection", (socket) => {
        socket.onAny((...args: unknown[]) => appSaw.push(["onAny", ...args.filter(isData)]));
        socket.on("sockguard:reauth", (...args: unknown[]) =>
          appSaw.push(["sockguard:reauth handler", ...args.filter(isData)]),
        );
        socket.on("whoami", (ack: (view: unknown) => void) => ack(socket.data.sockguard));
        socket.on("note", (_text: string, ack: (reply: string) => void) => ack("noted"));
      });
    }
  }

  async function connect(namespace: string, token: string): Promise<ClientSocket> {
    const client = createClient(cleanup, url, namespace, { transports: ["websocket"], auth: { token } });
    await connected(client);
    return client;
  }

  const whoami = async (client: ClientSocket): Promise<SockguardIdentityView> =>
    (await emitWithReply(client, "whoami")) as SockguardIdentityView;

  describe("with the default maxDenials", () => {
    beforeEach(() => startServer());

    it("judges one renewal per socket every 3 s: sooner is rate_limited with retryAfterMs, its token unread, the socket kept", async () => {
      const [renewed, refusedFirst, other] = await Promise.all([
        servicesToken().then((token) => connect("/chat", token)),
        servicesToken().then((token) => connect("/chat", token)),
        servicesToken().then((token) => connect("/chat", token)),
      ]);
      const start = Date.now();
      const exp = epoch(7200);
      assert.deepEqual(await reauth(renewed, { token: await servicesToken({ exp }) }), {
        ok: true,
        expiresAt: exp * 1000,
      });
      // A refused renewal starts the 3 s too.
      assert.equal(
        refusalCode(await reauth(refusedFirst, { token: await servicesToken({ sub: "u2" }) })),
        "token_invalid",
      );

      // Within 3 s: a valid token and a malformed one get the same answer, so neither was verified.
      const notice = nextEvent<[{ event: string; code: string; retryAfterMs: number }]>(
        renewed,
        "sockguard:denied",
      );
      const tooSoon = (await reauth(renewed, { token: await servicesToken({ exp: epoch(9000) }) })) as {
        error: { code: string; message: string; retryAfterMs: number };
      };
      const { retryAfterMs, ...rest } = tooSoon.error;
      assert.deepEqual(rest, { code: "rate_limited", message: "Too many requests; try again later" });
      // The wait is what is left of the 3 s since the accepted renewal.
      assert.ok(
        Number.isInteger(retryAfterMs) && retryAfterMs > 0 && retryAfterMs <= REAUTH_INTERVAL_MS,
        `retryAfterMs ${retryAfterMs}`,
      );
      const [noticeBody] = await notice;
      assert.equal(noticeBody.code, "rate_limited");
      assert.equal(noticeBody.event, "sockguard:reauth");
      assert.equal(typeof noticeBody.retryAfterMs, "number");
      assert.equal(refusalCode(await reauth(renewed, { token: "not a token" })), "rate_limited");
      assert.equal(refusalCode(await reauth(refusedFirst, { token: await servicesToken() })), "rate_limited");
      // The interval is per socket: another socket renews at once.
      assert.equal(isAccepted(await reauth(other, { token: await servicesToken() })), true);

      // Refused, not disconnected; the accepted renewal is the one in force.
      assert.equal(renewed.connected, true);
      assert.equal(refusedFirst.connected, true);
      assert.equal((await whoami(renewed)).expiresAt, exp * 1000);
      assert.deepEqual(
        decisions.map((d) => [d.code, d.stage, d.event]),
        [
          ["token_invalid", "reauth", "sockguard:reauth"],
          ["rate_limited", "reauth", "sockguard:reauth"],
          ["rate_limited", "reauth", "sockguard:reauth"],
          ["rate_limited", "reauth", "sockguard:reauth"],
        ],
      );
      assert.equal(decisions[1]!.retryAfterMs, retryAfterMs);
      assert.ok(Date.now() - start < REAUTH_INTERVAL_MS, "the attempts above were not all within 3 s");

      // Refusals by the limit did not restart the 3 s: once they have passed, renewals are judged again.
      await delay(REAUTH_INTERVAL_MS + 50 - (Date.now() - start));
      const later = epoch(10_000);
      assert.deepEqual(await reauth(renewed, { token: await servicesToken({ exp: later }) }), {
        ok: true,
        expiresAt: later * 1000,
      });
      assert.equal(isAccepted(await reauth(refusedFirst, { token: await servicesToken() })), true);
    });

    it("consumes sockguard:reauth before the app's listeners: neither onAny nor a handler for it sees the token", async () => {
      const client = await connect("/chat", await servicesToken());
      const token = await servicesToken({ exp: epoch(7200) });
      assert.equal(isAccepted(await reauth(client, { token })), true);
      // Refused attempts are consumed too: one by the limit, and one without an ack.
      assert.equal(refusalCode(await reauth(client, { token })), "rate_limited");
      client.emit("sockguard:reauth", { token });
      assert.equal(await emitWithReply(client, "note", "hello"), "noted");
      await waitUntil(() => decisions.length === 2, 3000, "both refusals reported");
      assert.deepEqual(appSaw, [["onAny", "note", "hello"]]);
      assert.ok(!JSON.stringify(appSaw).includes(token));
    });

    it("accepts a renewal after the token's exp while the clock tolerance still keeps the socket", async () => {
      const exp = epoch(1);
      const client = await connect("/chat", await servicesToken({ exp }));
      const disconnects: string[] = [];
      client.on("disconnect", (reason) => disconnects.push(reason));
      // Past exp, before exp + clockTolerance (1 s), when the expiry disconnect is due.
      await delay(exp * 1000 + 100 - Date.now());
      const renewedExp = epoch(3600);
      assert.deepEqual(await reauth(client, { token: await servicesToken({ exp: renewedExp }) }), {
        ok: true,
        expiresAt: renewedExp * 1000,
      });
      await delay(exp * 1000 + 1000 + 200 - Date.now());
      assert.deepEqual(disconnects, []);
      assert.equal((await whoami(client)).expiresAt, renewedExp * 1000);
    });

    it("refuses a renewal from another issuer with issuer_not_allowed, whether or not the namespace lists it", async () => {
      const chat = await connect("/chat", await servicesToken());
      const staff = await connect("/staff", await servicesToken());
      // /chat lists partners, but a renewal cannot switch issuers; /staff does not list partners at all.
      assert.deepEqual(await reauth(chat, { token: await partnersToken({ exp: epoch(7200) }) }), {
        error: { code: "issuer_not_allowed", message: "The token's issuer is not allowed here" },
      });
      assert.equal(
        refusalCode(await reauth(staff, { token: await partnersToken({ exp: epoch(7200) }) })),
        "issuer_not_allowed",
      );
      assert.equal((await whoami(chat)).issuer, "services");
      assert.equal((await whoami(staff)).issuer, "services");
    });

    it("refuses a renewal on an anonymous socket with token_invalid: there is no identity to renew", async () => {
      const client = createClient(cleanup, url, "/lobby", { transports: ["websocket"] });
      await connected(client);
      assert.deepEqual(await reauth(client, { token: await servicesToken() }), {
        error: { code: "token_invalid", message: "The token is not valid" },
      });
      assert.equal(await whoami(client), null);
      assert.equal(client.connected, true);
    });

    it("refuses a renewal whose claims fail the namespace's require with claims_not_satisfied", async () => {
      const client = await connect("/chat", await servicesToken());
      assert.deepEqual(await reauth(client, { token: await servicesToken({ scope: "chat:write" }) }), {
        error: { code: "claims_not_satisfied", message: "The token's claims do not satisfy the policy" },
      });
      assert.deepEqual(
        decisions.map((d) => [d.code, d.stage, d.subject]),
        [["claims_not_satisfied", "reauth", "u1"]],
      );
    });

    it("leaves the old identity and expiry in force after a refused renewal", async () => {
      const exp = epoch(1);
      const client = await connect("/chat", await servicesToken({ exp, tier: 1 }));
      const before = await whoami(client);
      const refusedToken = await servicesToken({ exp: epoch(7200), tier: 2, scope: "other" });
      assert.equal(refusalCode(await reauth(client, { token: refusedToken })), "claims_not_satisfied");
      const expired = nextEvent<[{ code: string }]>(client, "sockguard:denied", 4000);
      const after = await whoami(client);
      assert.deepEqual(after, before);
      assert.equal(after.claims.tier, 1);
      assert.equal(after.expiresAt, exp * 1000);
      // Still disconnected when the first token runs out (exp + 1 s tolerance).
      assert.equal((await expired)[0].code, "token_expired");
      assert.ok(Date.now() >= exp * 1000 + 1000);
    });
  });

  it("counts renewals refused by the limit against maxDenials, and disconnects past it", async () => {
    await startServer("2/1m");
    const client = await connect("/chat", await servicesToken());
    assert.equal(isAccepted(await reauth(client, { token: await servicesToken() })), true);
    const token = await servicesToken();
    assert.equal(refusalCode(await reauth(client, { token })), "rate_limited");
    assert.equal(refusalCode(await reauth(client, { token })), "rate_limited");
    assert.equal(client.connected, true);
    const gone = nextEvent<[string]>(client, "disconnect");
    // The third refusal is past maxDenials: it is answered, then the socket is cut off.
    assert.equal(refusalCode(await reauth(client, { token })), "rate_limited");
    assert.equal((await gone)[0], "io server disconnect");
  });
});

/** The event's arguments without the ack callback. */
function isData(value: unknown): boolean {
  return typeof value !== "function";
}
