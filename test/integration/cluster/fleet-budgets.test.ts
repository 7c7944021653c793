import assert from "node:assert/strict";
import type { Socket as ClientSocket } from "socket.io-client";
import { QUOTA_LEASE_MS } from "../../../src/budget/redis-quota-store.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connectOutcome, createClient, rawRequest } from "../../helpers/clients.js";
import { useFleet, type FleetNode } from "../../helpers/fleet-node.js";
import { claimsFor, createSecret, signWithSecret } from "../../helpers/tokens.js";
import { delay } from "../../helpers/wait.js";

const ISS = "urn:test:services";
const SECRET = createSecret();
/** The budgets of the nodes' policy (guarded-node.script.ts, variant "budgets"). */
const RATE = 5;
const MAX_CONNECTIONS = 2;
/** No answer may take longer than this, Redis up or down. */
const ANSWER_BOUND_MS = 1_500;
const OUTAGE_LINE = "sockguard: Redis is unreachable; budgets are counted on this node until it is back";
const RECOVERY_LINE = "sockguard: Redis is back; budgets are shared again";

const token = (sub: string): Promise<string> => signWithSecret(SECRET, claimsFor(ISS, "chat", { sub }));

/** A client address of its own for every client: the handshake budget counts by address. */
let addresses = 0;
const nextAddress = (): string => `10.77.${Math.floor(addresses / 250)}.${(addresses++ % 250) + 1}`;

const occurrences = (text: string, line: string): number => text.split(line).length - 1;

describe("cluster: budgets shared by guarded nodes through one redis-server", function () {
  this.timeout(QUOTA_LEASE_MS + 15_000);
  const cleanup = new Cleanup();
  const fleet = useFleet(3, SECRET, { variant: "budgets" });
  let a: FleetNode, b: FleetNode, c: FleetNode;
  before(() => ([a, b, c] = fleet.nodes() as [FleetNode, FleetNode, FleetNode]));
  afterEach(() => cleanup.run());

  const client = (node: FleetNode, namespace: string, tokenValue: string): ClientSocket =>
    createClient(cleanup, node.url, namespace, {
      transports: ["websocket"],
      auth: { token: tokenValue },
      extraHeaders: { "x-forwarded-for": nextAddress() },
    });

  const outcome = (socket: ClientSocket): Promise<string> => connectOutcome(socket, ANSWER_BOUND_MS);
  const outcomeOn = (node: FleetNode, namespace: string, tokenValue: string): Promise<string> =>
    outcome(client(node, namespace, tokenValue));
  async function connect(node: FleetNode, namespace: string, tokenValue: string): Promise<ClientSocket> {
    const socket = client(node, namespace, tokenValue);
    assert.equal(await outcome(socket), "connected");
    return socket;
  }

  /** Sends `spend` through each of `sockets` in turn; "ok" or the refusal's code, each within the bound. */
  async function spendThrough(sockets: readonly ClientSocket[], times: number): Promise<string[]> {
    const replies: string[] = [];
    for (let i = 0; i < times; i++) {
      const reply = (await sockets[i % sockets.length]!.timeout(ANSWER_BOUND_MS).emitWithAck("spend")) as
        string | { error: { code: string; retryAfterMs?: number } };
      if (typeof reply === "string") replies.push(reply);
      else {
        assert.ok((reply.error.retryAfterMs ?? 0) > 0, "a refusal says when to retry");
        replies.push(reply.error.code);
      }
    }
    return replies;
  }
  const count = (values: readonly string[], value: string): number =>
    values.filter((v) => v === value).length;

  it("an event's rateLimit by subject is one budget across nodes: 5/10s through A and B admits 5, not 10", async () => {
    const t = await token("u-events");
    const replies = await spendThrough([await connect(a, "/events", t), await connect(b, "/events", t)], 10);
    assert.deepEqual([count(replies, "ok"), count(replies, "rate_limited")], [RATE, 10 - RATE], `${replies}`);
    const other = await connect(b, "/events", await token("u-events-other"));
    assert.deepEqual(await spendThrough([other], 1), ["ok"], "another subject spends its own budget");
  });

  it("a namespace's connect rateLimit is one budget across nodes", async () => {
    const t = await token("u-connects");
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) outcomes.push(await outcomeOn(i % 2 ? b : a, "/connects", t));
    assert.deepEqual(
      [count(outcomes, "connected"), count(outcomes, "rate_limited")],
      [RATE, 8 - RATE],
      `${outcomes}`,
    );
  });

  it("connection.rateLimit counts an address's handshakes across nodes, answering 429 with Retry-After", async () => {
    const address = nextAddress();
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const response = await rawRequest(`${(i % 2 ? b : a).url}/socket.io/?EIO=4&transport=polling`, {
        "x-forwarded-for": address,
      });
      statuses.push(response.status);
      if (response.status === 429) assert.match(String(response.headers["retry-after"]), /^[1-9]\d*$/);
    }
    assert.deepEqual(
      [statuses.filter((s) => s === 200).length, statuses.filter((s) => s === 429).length],
      [RATE, 8 - RATE],
      `${statuses}`,
    );
  });

  it("maxConnections caps a subject's live sockets on all nodes together, and a closed one frees its place at once", async () => {
    const t = await token("u-quota");
    await connect(a, "/quota", t);
    const onB = await connect(b, "/quota", t);
    assert.equal(await outcomeOn(a, "/quota", t), "too_many_connections");
    assert.equal(await outcomeOn(c, "/quota", t), "too_many_connections");
    onB.disconnect();
    const deadline = Date.now() + ANSWER_BOUND_MS;
    let last: string;
    while ((last = await outcomeOn(c, "/quota", t)) !== "connected" && Date.now() < deadline) await delay(50);
    assert.equal(last, "connected", "the place B's socket held is free");
  });

  it("a node killed with SIGKILL frees its maxConnections places within the lease (QUOTA_LEASE_MS)", async () => {
    const t = await token("u-lease");
    for (let i = 0; i < MAX_CONNECTIONS; i++) await connect(c, "/quota", t);
    assert.equal(await outcomeOn(a, "/quota", t), "too_many_connections");
    await c.kill("SIGKILL");
    const killedAt = Date.now();
    assert.equal(
      await outcomeOn(a, "/quota", t),
      "too_many_connections",
      "the dead node's places are held until their lease ends",
    );
    let last: string;
    while ((last = await outcomeOn(b, "/quota", t)) !== "connected") {
      assert.equal(last, "too_many_connections");
      assert.ok(Date.now() - killedAt < QUOTA_LEASE_MS + 1_000, "the places outlived their lease");
      await delay(250);
    }
    assert.ok(Date.now() - killedAt <= QUOTA_LEASE_MS + 1_000, `freed after ${Date.now() - killedAt} ms`);
  });

  it("with Redis stopped each node holds every limit alone without hanging, reports it once, and shares the budget again once Redis is back", async () => {
    await fleet.redis().stop();
    await delay(300);
    const t = await token("u-outage");
    const onA = await connect(a, "/events", t);
    const onB = await connect(b, "/events", t);
    const started = Date.now();
    const [repliesA, repliesB] = [await spendThrough([onA], 8), await spendThrough([onB], 8)];
    // Each node's in-memory insurance counts the same limit: N nodes admit N times the budget meanwhile.
    assert.deepEqual(
      [count(repliesA, "ok"), count(repliesB, "ok")],
      [RATE, RATE],
      `${repliesA} / ${repliesB}`,
    );
    assert.ok(Date.now() - started < 16 * ANSWER_BOUND_MS);
    const quotaToken = await token("u-outage-quota");
    for (let i = 0; i < MAX_CONNECTIONS; i++) await connect(a, "/quota", quotaToken);
    assert.equal(await outcomeOn(a, "/quota", quotaToken), "too_many_connections");
    assert.equal(await outcomeOn(b, "/quota", quotaToken), "connected", "B counts its own places");
    for (const node of [a, b]) {
      assert.ok((await node.status()).sockets > 0, "the node answers status() during the outage");
      assert.equal(occurrences(node.stderr(), OUTAGE_LINE), 1, "the outage is reported once");
    }

    await fleet.redis().restart();
    const deadline = Date.now() + 5_000;
    while (![a, b].every((node) => node.stderr().includes(RECOVERY_LINE))) {
      assert.ok(Date.now() < deadline, "both nodes report that Redis is back");
      await delay(50);
    }
    for (const node of [a, b]) {
      assert.equal(occurrences(node.stderr(), OUTAGE_LINE), 1);
      assert.equal(occurrences(node.stderr(), RECOVERY_LINE), 1, "the recovery is reported once");
    }
    const later = await token("u-after-outage");
    const replies = await spendThrough(
      [await connect(a, "/events", later), await connect(b, "/events", later)],
      10,
    );
    assert.equal(count(replies, "ok"), RATE, `shared again: ${replies}`);
  });
});
