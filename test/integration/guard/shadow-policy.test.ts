import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Server, type Socket } from "socket.io";
import type { Socket as ClientSocket } from "socket.io-client";
import {
  PolicyLoadError,
  sockguard,
  type Decision,
  type Guard,
  type JsonObject,
  type Policy,
  type ReloadEvent,
  type ReloadFailedEvent,
} from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, rawRequest } from "../../helpers/clients.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";
import { claimsFor, createSecret, hs256Issuer, signWithSecret } from "../../helpers/tokens.js";
import { delay, nextEvent, waitUntil } from "../../helpers/wait.js";

const ISS = "urn:test:idp";
const SECRET = createSecret();
const ORIGIN = "http://app.example";
const OTHER_ORIGIN = "http://other.example";

const message = (maxLength: number): JsonObject => ({
  type: "object",
  properties: { text: { type: "string", maxLength } },
  required: ["text"],
  additionalProperties: false,
});

/** The policy in force: two origins, a chat where readers may connect, typing, a lenient message, /admin open. */
const IN_FORCE: Policy = {
  version: 1,
  connection: { origins: [ORIGIN, OTHER_ORIGIN], maxDenials: "6/1m" },
  auth: { issuers: { idp: hs256Issuer(ISS, SECRET) } },
  namespaces: {
    "/chat": {
      require: { scope: "chat:read" },
      events: {
        message: { schema: message(20), rateLimit: "5/10s" },
        typing: { args: [{ type: "boolean" }] },
      },
    },
    "/admin": { auth: "none", events: { ping: { args: [] } } },
  },
};

/** A stricter candidate: one origin, writers only, short messages, a tighter budget, no typing, no /admin. */
const CANDIDATE: Policy = {
  version: 1,
  connection: { origins: [ORIGIN], maxDenials: "2/1m" },
  auth: { issuers: { idp: hs256Issuer(ISS, SECRET) } },
  namespaces: {
    "/chat": {
      require: { scope: "chat:write" },
      events: { message: { schema: message(5), rateLimit: "2/10s" } },
    },
  },
};

const token = (sub: string, scope: string): Promise<string> =>
  signWithSecret(SECRET, claimsFor(ISS, undefined, { sub, scope }));

describe("guard: the shadow option (a candidate policy beside the one in force)", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  /** Handlers that ack every event with what they got, and a log of what reached the app. */
  function echoApp(io: Server, reached: string[]): void {
    for (const name of ["/chat", "/admin"]) {
      io.of(name).on("connection", (socket: Socket) => {
        socket.onAny((event: string, ...args: unknown[]) => {
          reached.push(`${name} ${event} ${JSON.stringify(args.filter((arg) => typeof arg !== "function"))}`);
          const ack = args.at(-1);
          if (typeof ack === "function") (ack as (reply: unknown) => void)({ ok: true, event });
        });
      });
    }
  }

  /** Everything a client sees from `client`, in order: connect results, acks, notices, disconnects. */
  function watch(client: ClientSocket, label: string, seen: string[]): void {
    client.on("connect", () => seen.push(`${label} connect`));
    client.on("connect_error", (error: Error & { data?: { code?: string } }) =>
      seen.push(`${label} connect_error ${error.data?.code ?? error.message}`),
    );
    client.on("sockguard:denied", (notice: { code: string; event?: string }) =>
      seen.push(`${label} denied ${notice.code} ${notice.event ?? "-"}`),
    );
    client.on("disconnect", (reason) => seen.push(`${label} disconnect ${reason}`));
  }

  async function ask(client: ClientSocket, label: string, seen: string[], event: string, ...args: unknown[]) {
    try {
      const reply = JSON.stringify(await client.timeout(2000).emitWithAck(event, ...args));
      // How long a rate-limited client must wait depends on the clock, not on the guard's decision.
      seen.push(`${label} ack ${event} ${reply.replace(/"retryAfterMs":\d+/, '"retryAfterMs":"…"')}`);
    } catch {
      seen.push(`${label} no-ack ${event}`);
    }
  }

  /** The same traffic, whatever the server: handshakes, connects, valid and invalid events, acks, a flood. */
  async function runTraffic(url: string): Promise<string[]> {
    const seen: string[] = [];
    for (const origin of [ORIGIN, OTHER_ORIGIN, "http://evil.example"]) {
      const response = await rawRequest(`${url}/socket.io/?EIO=4&transport=polling`, { origin });
      seen.push(`handshake ${origin} ${response.status} ${response.status === 200 ? "" : response.body}`);
    }
    const options = (origin: string, auth?: { token: string }) => ({
      transports: ["websocket"],
      extraHeaders: { origin },
      ...(auth ? { auth } : {}),
    });
    const alice = createClient(
      cleanup,
      url,
      "/chat",
      options(ORIGIN, { token: await token("alice", "chat:read chat:write") }),
    );
    watch(alice, "alice", seen);
    await connected(alice);
    await ask(alice, "alice", seen, "message", { text: "hi" });
    await ask(alice, "alice", seen, "message", { text: "longer than five" });
    await ask(alice, "alice", seen, "message", { text: 7 });
    await ask(alice, "alice", seen, "typing", true);
    await ask(alice, "alice", seen, "unknown", 1);
    for (let i = 0; i < 4; i++) await ask(alice, "alice", seen, "message", { text: `m${i}` });

    const reader = createClient(
      cleanup,
      url,
      "/chat",
      options(ORIGIN, { token: await token("bob", "chat:read") }),
    );
    watch(reader, "reader", seen);
    await connected(reader);
    await ask(reader, "reader", seen, "typing", false);
    reader.emit("typing", "not a boolean");
    await ask(reader, "reader", seen, "message", { text: "a reader writes" });

    const anonymous = createClient(cleanup, url, "/chat", options(ORIGIN));
    watch(anonymous, "anonymous", seen);
    await nextEvent(anonymous, "connect_error");

    const admin = createClient(cleanup, url, "/admin", options(ORIGIN));
    watch(admin, "admin", seen);
    await connected(admin);
    await ask(admin, "admin", seen, "ping");
    // A flood of refused events: the connection is closed with too_many_denials after maxDenials.
    for (let i = 0; i < 8 && admin.connected; i++) await ask(admin, "admin", seen, "ping", "extra");
    await waitUntil(() => !admin.connected, 2000, "the admin socket to be disconnected");
    await delay(50);
    return seen;
  }

  it("never changes what the client sees: the same traffic with and without a stricter candidate", async () => {
    const plainReached: string[] = [];
    const plain = await startGuardedServer(cleanup, { policy: IN_FORCE });
    echoApp(plain.io, plainReached);
    const plainSeen = await runTraffic(plain.url);

    const shadowedReached: string[] = [];
    const shadowed = await startGuardedServer(cleanup, { policy: IN_FORCE, shadow: CANDIDATE });
    echoApp(shadowed.io, shadowedReached);
    const shadowedSeen = await runTraffic(shadowed.url);

    assert.deepEqual(shadowedSeen, plainSeen);
    assert.deepEqual(shadowedReached, plainReached);
    // The traffic really did exercise refusals of both kinds, and the candidate really judged it.
    assert.ok(
      plainSeen.some((line) => line.includes("denied rate_limited")),
      plainSeen.join("\n"),
    );
    assert.ok(plainSeen.includes("admin disconnect io server disconnect"), plainSeen.join("\n"));
    assert.ok(plainSeen.some((line) => line.startsWith("anonymous connect_error token_missing")));
    const enforced = (decisions: readonly Decision[]) =>
      decisions
        .filter((d) => d.shadow !== true)
        .map((d) => `${d.stage} ${d.code} ${d.namespace ?? "-"} ${d.event ?? "-"}`);
    assert.deepEqual(enforced(shadowed.decisions), enforced(plain.decisions));
    assert.equal(plain.decisions.filter((d) => d.shadow === true).length, 0);

    const candidate = shadowed.decisions.filter((d) => d.shadow === true);
    const shadowVersion = shadowed.guard.status().shadowVersion;
    assert.ok(shadowVersion !== undefined && shadowVersion !== shadowed.guard.version);
    for (const decision of candidate) assert.equal(decision.policyVersion, shadowVersion);
    const reported = new Set(
      candidate.map((d) => `${d.stage} ${d.code} ${d.namespace ?? "-"} ${d.event ?? "-"}`),
    );
    for (const expected of [
      "handshake origin_not_allowed - -",
      "connect claims_not_satisfied /chat -",
      "connect namespace_not_allowed - -",
      "event payload_invalid /chat message",
      "event event_not_allowed /chat -",
    ]) {
      assert.ok(reported.has(expected), `${expected} is missing from ${[...reported].join("; ")}`);
    }
    // Its budgets are not counted: a rate limit of the candidate refuses nothing, and reports nothing.
    assert.equal(reported.has("event rate_limited /chat message"), false);
  });

  it("reports would-be denials with its version, reloads on a disk edit and keeps its last good version on a broken one", async () => {
    const dir = await writePolicyFiles(cleanup, { "next.yaml": JSON.stringify(CANDIDATE) });
    const candidateFile = join(dir, "next.yaml");
    const lenient: Policy = {
      version: 1,
      connection: { allowMissingOrigin: true },
      namespaces: { "/chat": { auth: "none", events: { message: { schema: message(50) } } } },
    };
    const { io, url, guard, decisions } = await startGuardedServer(cleanup, {
      policy: lenient,
      shadow: candidateFile,
    });
    const reached: string[] = [];
    echoApp(io, reached);
    const reloads: ReloadEvent[] = [];
    const failures: ReloadFailedEvent[] = [];
    guard.on("reload", (event) => reloads.push(event));
    guard.on("reloadFailed", (event) => failures.push(event));
    const first = guard.status().shadowVersion;
    assert.ok(first);

    const client = createClient(cleanup, url, "/chat", { transports: ["websocket"] });
    await connected(client);
    const seen: string[] = [];
    await ask(client, "c", seen, "message", { text: "twelve chars" });
    assert.deepEqual(seen, ['c ack message {"ok":true,"event":"message"}']);
    const judged = decisions
      .filter((d) => d.shadow === true)
      .map((d) => `${d.stage} ${d.code} ${d.policyVersion}`);
    // The candidate admits no missing Origin: both the handshake and the connect would be refused.
    assert.deepEqual(judged, [
      `handshake origin_not_allowed ${first}`,
      `connect origin_not_allowed ${first}`,
    ]);

    const relaxed: Policy = {
      ...CANDIDATE,
      connection: { allowMissingOrigin: true },
      namespaces: { "/chat": { auth: "none", events: { message: { schema: message(8) } } } },
    };
    await writeFile(candidateFile, JSON.stringify(relaxed));
    await waitUntil(() => reloads.length > 0, 5000, "the candidate's reload");
    assert.equal(reloads[0]!.shadow, true);
    const second = guard.status().shadowVersion;
    assert.ok(second !== undefined && second !== first);
    assert.equal(reloads[0]!.version, second);

    // A socket connecting now is judged by the new candidate: its message is too long for it.
    const late = createClient(cleanup, url, "/chat", { transports: ["websocket"] });
    await connected(late);
    await ask(late, "late", seen, "message", { text: "twelve chars" });
    await waitUntil(() => decisions.some((d) => d.shadow === true && d.policyVersion === second));
    const latest = decisions.filter((d) => d.policyVersion === second);
    assert.deepEqual(
      latest.map((d) => `${d.stage} ${d.code} ${d.event ?? "-"}`),
      ["event payload_invalid message"],
    );

    await writeFile(candidateFile, "version: 1\nmode: sometimes\nnamespaces: {}\n");
    await waitUntil(() => failures.length > 0, 5000, "the candidate's failed reload");
    assert.equal(failures[0]!.shadow, true);
    assert.match(failures[0]!.diagnostics[0]!.message, /enforce, shadow/);
    assert.equal(guard.status().shadowVersion, second, "the last good candidate stays");
    await ask(late, "late", seen, "message", { text: "twelve chars!" });
    await waitUntil(() => decisions.filter((d) => d.policyVersion === second).length === 2);
    assert.equal(reached.length, 3, "every event reached the app");
  });

  it("is absent from status() without the option, and a candidate that does not load stops the start", async () => {
    const { guard } = await startGuardedServer(cleanup, { policy: IN_FORCE });
    assert.equal("shadowVersion" in guard.status(), false);

    // Never attached: nothing listens, and nothing needs closing but the guard.
    const io = new Server();
    const broken = { ...CANDIDATE, mode: "later" } as unknown as Policy;
    await assert.rejects(
      sockguard(io, { policy: IN_FORCE, shadow: broken }),
      (error: unknown) =>
        error instanceof PolicyLoadError &&
        error.message.startsWith("sockguard: the shadow policy did not load") &&
        error.diagnostics.some((d) => d.path === "/mode"),
    );
    const again: Guard = await sockguard(io, { policy: IN_FORCE, shadow: CANDIDATE });
    cleanup.add(() => again.close());
    assert.equal(typeof again.status().shadowVersion, "string");
  });
});
