import { expect } from "chai";
import type { Identity } from "../../../src/compile/types.js";
import {
  RedisRevocationStore,
  RevocationsUnavailableError,
} from "../../../src/cluster/redis-revocation-store.js";
import type { RevocationEntry } from "../../../src/cluster/revocation-entry.js";
import { useRedisServer } from "../../helpers/redis-server.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const identity = (subject: string, issuedAt: number): Identity =>
  ({ issuer: "idp", iss: "https://idp.example.test/", subject, issuedAt, claims: {} }) as unknown as Identity;

const revocationOf = (sub: string, now = Date.now()): RevocationEntry => ({
  sub,
  revokedAt: now,
  issuedUntil: now,
  expiresAt: now + 60_000,
});

describe("RedisRevocationStore (a real redis-server)", function () {
  this.timeout(20_000);
  const redis = useRedisServer();
  const stores: RedisRevocationStore[] = [];
  after(() => stores.forEach((store) => store.close()));

  async function store(hooks = {}): Promise<RedisRevocationStore> {
    const created = new RedisRevocationStore(await redis.client(), hooks, 100);
    stores.push(created);
    return created;
  }

  it("answers from memory, synchronously, once loaded, and a store started later finds what another wrote", async () => {
    const first = await store();
    expect(await first.start()).to.equal(true);
    await first.add(revocationOf("u1"));
    expect(first.isRevoked(identity("u1", Date.now() - 1000), Date.now())).to.equal(true);
    const later = await store();
    expect(await later.start()).to.equal(true);
    expect(later.isRevoked(identity("u1", Date.now() - 1000), Date.now())).to.equal(true);
    expect(later.isRevoked(identity("u2", Date.now() - 1000), Date.now())).to.equal(false);
  });

  it("tells which entries a periodic check learned, so their live sockets can be disconnected", async () => {
    const learned: RevocationEntry[][] = [];
    const watcher = await store({ learned: (entries: RevocationEntry[]) => learned.push(entries) });
    await watcher.start();
    learned.length = 0; // the first load learns what other tests wrote
    const writer = await store();
    await writer.start();
    const generation = watcher.generation;
    await writer.add(revocationOf("u-periodic"));
    const deadline = Date.now() + 2_000;
    while (learned.length === 0 && Date.now() < deadline) await sleep(20);
    expect(learned.flat().map((entry) => entry.sub)).to.deep.equal(["u-periodic"]);
    expect(watcher.generation).to.be.above(generation);
  });

  it("refuses (never admits) a token while it has never loaded and Redis is down, and writes back what Redis lost once it restarts", async () => {
    const issuedBefore = Date.now() - 1000;
    const keeper = await store();
    await keeper.start();
    await keeper.add(revocationOf("u-kept"));
    const client = await redis.client();
    const cold = new RedisRevocationStore(client, {}, 100);
    stores.push(cold);
    await redis.server().stop();
    while (client.isReady) await sleep(20);
    const started = Date.now();
    let failure: unknown;
    try {
      await cold.isRevoked(identity("u-any", Date.now()), Date.now());
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(RevocationsUnavailableError);
    expect(Date.now() - started).to.be.below(4_000);
    expect(
      keeper.isRevoked(identity("u-kept", issuedBefore), Date.now()),
      "a loaded store answers from memory",
    ).to.equal(true);

    await redis.server().restart(); // without persistence: the set is gone, until the keeper writes it back
    const deadline = Date.now() + 5_000;
    let answer: boolean | undefined;
    while (Date.now() < deadline) {
      answer = await Promise.resolve(cold.isRevoked(identity("u-kept", issuedBefore), Date.now())).catch(
        () => undefined,
      );
      if (answer === true) break;
      await sleep(100);
    }
    expect(answer).to.equal(true);
  });
});
