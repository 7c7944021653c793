import assert from "node:assert/strict";
import type { Socket as ClientSocket } from "socket.io-client";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, refused } from "../../helpers/clients.js";
import { startFleetNode, useFleet, type FleetNode } from "../../helpers/fleet-node.js";
import { claimsFor, createSecret, signWithSecret } from "../../helpers/tokens.js";
import { delay, nextEvent, waitUntil } from "../../helpers/wait.js";

/** Waits until `condition` resolves true, asking every 50 ms. */
async function eventually(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`the condition did not hold within ${timeoutMs} ms`);
    await delay(50);
  }
}

const ISS = "urn:test:services";
const SECRET = createSecret();
const HEARTBEAT_MS = 300;

const token = (sub: string): Promise<string> => signWithSecret(SECRET, claimsFor(ISS, "chat", { sub }));
/** Waits for the next whole second: a token signed then is newer than a revocation made before. */
const nextSecond = (): Promise<void> => delay(1000 - (Date.now() % 1000) + 20);

describe("cluster: three guarded nodes on @socket.io/redis-adapter and one redis-server", function () {
  this.timeout(30_000);
  const cleanup = new Cleanup();
  const cluster = useFleet(3, SECRET);
  let a: FleetNode, b: FleetNode, c: FleetNode;
  before(() => ([a, b, c] = cluster.nodes() as [FleetNode, FleetNode, FleetNode]));
  afterEach(() => cleanup.run());

  const client = (node: FleetNode, tokenValue: string): ClientSocket =>
    createClient(cleanup, node.url, "/chat", { transports: ["websocket"], auth: { token: tokenValue } });
  async function connect(node: FleetNode, tokenValue: string): Promise<ClientSocket> {
    const socket = client(node, tokenValue);
    await connected(socket, 5_000);
    return socket;
  }
  const refusalOn = async (node: FleetNode, tokenValue: string): Promise<string | undefined> =>
    (await refused(client(node, tokenValue), 5_000)).data?.code;
  const revokedNotice = (socket: ClientSocket, timeoutMs = 5_000): Promise<string> =>
    nextEvent<[{ code: string }]>(socket, "sockguard:denied", timeoutMs).then(([notice]) => notice.code);

  it("a revoke on A disconnects the subject on B and C, counts every node, and every node refuses its reconnect", async () => {
    const old = await token("u1");
    const onB = await connect(b, old);
    const onC = await connect(c, old);
    const bystander = await connect(c, await token("u2"));
    const toldB = revokedNotice(onB);
    const toldC = revokedNotice(onC);
    assert.deepEqual(await a.revoke({ sub: "u1" }), { disconnected: 2, nodes: 3 });
    assert.deepEqual(await Promise.all([toldB, toldC]), ["revoked", "revoked"]);
    await waitUntil(() => !onB.connected && !onC.connected, 2_000);
    assert.equal(bystander.connected, true, "another subject stays connected");
    for (const node of [a, b, c]) assert.equal(await refusalOn(node, old), "revoked");
    await nextSecond();
    await connect(b, await token("u1")); // a token issued after the revoke is admitted
  });

  it("a node started after the revoke refuses the revoked token", async () => {
    const old = await token("u-late");
    assert.equal((await a.revoke({ sub: "u-late" })).nodes, 3);
    const late = await startFleetNode(cluster.redis().url, SECRET);
    cleanup.add(() => late.kill());
    assert.equal(await refusalOn(late, old), "revoked");
    await connect(late, await token("u-other"));
  });

  it("status() lists every node with its policy version and sockets, a different policy shows, and a SIGKILL'd node drops out within three heartbeats", async () => {
    const other = await startFleetNode(cluster.redis().url, SECRET, { variant: "extra" });
    let killed = false;
    cleanup.add(() => (killed ? undefined : other.kill()));
    await connect(other, await token("u-status"));
    const own = await a.status();
    let fleet = own.nodes ?? [];
    await eventually(async () => {
      fleet = (await a.status()).nodes ?? [];
      return fleet.length === 4 && fleet.some((node) => node.sockets === 1 && node.version !== own.version);
    }, 5_000);
    const versions = new Set(fleet.map((node) => node.version));
    assert.equal(versions.size, 2, "two policy versions in the fleet");
    assert.equal(fleet.filter((node) => node.version === own.version).length, 3);
    assert.ok(fleet.every((node) => node.seenAt > Date.now() - 10 * HEARTBEAT_MS));

    await other.kill("SIGKILL");
    killed = true;
    const killedAt = Date.now();
    await eventually(async () => ((await a.status()).nodes ?? []).length === 3, 5_000);
    // Documented bound: the entry lives three heartbeats, and A reads the list every heartbeat.
    assert.ok(Date.now() - killedAt < 4 * HEARTBEAT_MS + 500, `gone after ${Date.now() - killedAt} ms`);
  });

  it("with Redis stopped, every node keeps working on what it knew without hanging; once Redis is back the others catch up", async () => {
    const old = await token("u-outage");
    const onA = await connect(a, old);
    const onB = await connect(b, old);
    const toldB = revokedNotice(onB, 15_000);
    await cluster.redis().stop();
    await delay(300);
    const started = Date.now();
    const result = await a.revoke({ sub: "u-outage" });
    assert.ok(Date.now() - started < 1_500, `revoke took ${Date.now() - started} ms`);
    assert.deepEqual(result, { disconnected: 1, nodes: 1 }, "only A could be reached");
    await waitUntil(() => !onA.connected, 2_000);
    assert.equal(await refusalOn(a, old), "revoked", "A refuses it at once");
    const duringOutage = Date.now();
    await connect(b, await token("u-fresh")); // B admits from what it knew, without waiting for Redis
    assert.ok(Date.now() - duringOutage < 1_500);
    assert.ok(((await b.status()).sockets ?? 0) >= 2, "status() answers during the outage");

    await cluster.redis().restart();
    assert.equal(await toldB, "revoked", "B disconnects the subject once it catches up");
    // C may hear of it a heartbeat later than B: A writes it back when its own client is ready again.
    await eventually(async () => (await refusalOn(c, old)) === "revoked", 4 * HEARTBEAT_MS);
    assert.equal(await refusalOn(b, old), "revoked");
    assert.match(a.stderr(), /Redis did not take a revocation/);
  });
});
