import { expect } from "chai";
import { NodeRegistry } from "../../../src/cluster/node-registry.js";
import { useRedisServer } from "../../helpers/redis-server.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("NodeRegistry (a real redis-server)", function () {
  this.timeout(20_000);
  const redis = useRedisServer();
  const client = (): ReturnType<typeof redis.client> => redis.client();

  it("lists every node with the policy version it enforces, and a node that closes leaves the list at once", async () => {
    const timing = { heartbeatMs: 100, ttlMs: 400 };
    const a = new NodeRegistry(await client(), () => ({ version: "v-new", sockets: 3 }), {
      ...timing,
      id: "a",
    });
    const b = new NodeRegistry(await client(), () => ({ version: "v-old", sockets: 1 }), {
      ...timing,
      id: "b",
    });
    await a.start();
    await b.start();
    await a.heartbeat();
    expect(a.nodes.map((node) => [node.id, node.version, node.sockets])).to.deep.equal([
      ["a", "v-new", 3],
      ["b", "v-old", 1],
    ]);
    await b.close();
    await a.heartbeat();
    expect(a.nodes.map((node) => node.id)).to.deep.equal(["a"]);
    await a.close();
  });

  it("forgets a crashed node's entry after its time to live", async () => {
    const timing = { heartbeatMs: 100, ttlMs: 300 };
    const crashed = await client();
    const registry = new NodeRegistry(crashed, () => ({ version: "v1", sockets: 0 }), {
      ...timing,
      id: "crashed",
    });
    await registry.heartbeat(); // one entry, no heartbeat timer: it never writes again
    const watcher = new NodeRegistry(await client(), () => ({ version: "v1", sockets: 0 }), {
      ...timing,
      id: "w",
    });
    await watcher.heartbeat();
    expect(watcher.nodes.map((node) => node.id)).to.deep.equal(["crashed", "w"]);
    await sleep(450);
    await watcher.heartbeat();
    expect(watcher.nodes.map((node) => node.id)).to.deep.equal(["w"]);
    await watcher.close();
  });

  it("keeps the last list and writes nothing while Redis is down, without throwing", async () => {
    const registry = new NodeRegistry(await client(), () => ({ version: "v1", sockets: 0 }), {
      heartbeatMs: 100,
      ttlMs: 300,
      id: "solo",
    });
    await registry.heartbeat();
    const before = registry.nodes.map((node) => node.id);
    await redis.server().stop();
    await sleep(200);
    await registry.heartbeat();
    expect(registry.nodes.map((node) => node.id)).to.deep.equal(before);
    await redis.server().restart();
    await registry.close();
  });
});
