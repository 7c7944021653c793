/**
 * Workloads 4b and 5, many connected sockets: a plain and a guarded server process (each started
 * with `--expose-gc`) each take 2,000 WebSocket connections from a load-generator process.
 *
 * - **Memory**: resident set size after full collections, measured at a tenth of the sockets and at
 *   all of them; the difference over the sockets added is the cost per connection (one-time costs
 *   such as compiled code fall in the first tenth and cancel out). The guard's overhead is guarded
 *   minus plain.
 * - **Recheck**: with every socket still connected, the guarded server rewrites its policy and
 *   reloads it several times (each revision still admits every socket); the guard's swap, timed
 *   inside the server, is the new policy's assignment plus the recheck of every live socket (and
 *   the re-arming of each one's token expiry timer).
 */
import { createIssuerKey } from "../fixtures/issuer-keys.js";
import { guardedPolicy, policyYaml, withTempDir, writePolicyFiles } from "../fixtures/policies.js";
import { BENCH_NAMESPACE, BENCH_ORIGIN } from "../fixtures/scenario.js";
import { CLIENT_ENTRY, HelperProcess, SERVER_ENTRY, stopAll } from "../processes/child-process.js";
import { checkTarget, workloadReport, type WorkloadReport } from "../results.js";
import type { MemoryReading, SwapTimings } from "../server/server-main.js";
import type { BenchSizes } from "../sizes.js";
import { median, rotation } from "../stats.js";

type Sizes = BenchSizes["fleet"];

/** Filler events in the policy whose revisions the recheck reloads. */
const POLICY_EVENTS = 8;

interface MemoryCost {
  readonly rssPerSocket: number;
  readonly heapPerSocket: number;
  readonly sockets: number;
}

export async function runFleet(sizes: Sizes): Promise<WorkloadReport[]> {
  const memoryReport = workloadReport("Memory");
  const recheckReport = workloadReport("Recheck");
  const key = await createIssuerKey("ES256");
  const token = await key.signUserToken("bench-user");
  const policyAt = (revision: number) =>
    guardedPolicy(key.verification, { extraEvents: POLICY_EVENTS - 1, revision });
  await withTempDir(async (dir) => {
    const policyPath = await writePolicyFiles(dir, policyAt(0));
    const helpers: HelperProcess[] = [];
    try {
      const client = await HelperProcess.start(CLIENT_ENTRY);
      helpers.push(client);
      const costs = { plain: [] as MemoryCost[], guarded: [] as MemoryCost[] };
      let lastGuarded: HelperProcess | undefined;
      for (let round = 0; round < sizes.memoryRounds; round++) {
        // Fresh processes each round: RSS only grows, so a process measures one fleet once.
        const [plain, guarded] = await Promise.all([
          HelperProcess.start(SERVER_ENTRY, { nodeFlags: ["--expose-gc"] }),
          HelperProcess.start(SERVER_ENTRY, { nodeFlags: ["--expose-gc"] }),
        ]);
        helpers.push(plain, guarded);
        const servers = [
          { name: "plain" as const, process: plain, variant: { kind: "plain" } },
          { name: "guarded" as const, process: guarded, variant: { kind: "sockguard", policyPath } },
        ];
        for (const server of rotation(servers, round)) {
          const { url } = await server.process.call<{ url: string }>("start", server.variant);
          costs[server.name].push(
            await measureFleet(server.process, client, `${server.name}-${round}`, url, token, sizes),
          );
        }
        await client.call("disconnect", { group: `plain-${round}` });
        await plain.stop();
        if (lastGuarded) {
          await client.call("disconnect", { group: `guarded-${round - 1}` });
          await lastGuarded.stop();
        }
        lastGuarded = guarded;
      }
      reportMemory(memoryReport, costs.plain, costs.guarded);

      const revisions = Array.from({ length: sizes.swaps }, (_, i) => policyYaml(policyAt(i + 1)));
      const swaps = await lastGuarded!.call<SwapTimings>("timeSwaps", { revisions });
      reportRecheck(recheckReport, swaps);
    } finally {
      await stopAll(helpers);
    }
  });
  return [recheckReport, memoryReport];
}

/**
 * Connects a tenth of the sockets, reads the server's memory, connects the rest, reads it again:
 * the difference over the sockets added is what one connection costs.
 */
async function measureFleet(
  server: HelperProcess,
  client: HelperProcess,
  group: string,
  url: string,
  token: string,
  sizes: Sizes,
): Promise<MemoryCost> {
  const first = Math.max(1, Math.floor(sizes.sockets / 10));
  const target = { url, namespace: BENCH_NAMESPACE, token, origin: BENCH_ORIGIN };
  await client.call("connect", { group, target, count: first, concurrency: 20 });
  const before = await server.call<MemoryReading>("memory", null);
  await client.call("connect", { group, target, count: sizes.sockets - first, concurrency: 20 });
  const after = await server.call<MemoryReading>("memory", null);
  if (after.sockets !== sizes.sockets)
    throw new Error(`${after.sockets} of ${sizes.sockets} sockets connected`);
  const added = after.sockets - before.sockets;
  return {
    rssPerSocket: (after.rss - before.rss) / added,
    heapPerSocket: (after.heapUsed - before.heapUsed) / added,
    sockets: after.sockets,
  };
}

function reportMemory(report: WorkloadReport, plainCosts: MemoryCost[], guardedCosts: MemoryCost[]): void {
  const kib = (bytes: number): number => bytes / 1024;
  const summary = (costs: MemoryCost[]): MemoryCost => ({
    rssPerSocket: median(costs.map((c) => c.rssPerSocket)),
    heapPerSocket: median(costs.map((c) => c.heapPerSocket)),
    sockets: costs[0]!.sockets,
  });
  const plain = summary(plainCosts);
  const guarded = summary(guardedCosts);
  report.measurements.push(
    {
      variant: "plain",
      metric: "RSS per connection",
      value: kib(plain.rssPerSocket),
      unit: "KiB",
      samples: plainCosts.map((c) => kib(c.rssPerSocket)),
    },
    {
      variant: "sockguard",
      metric: "RSS per connection",
      value: kib(guarded.rssPerSocket),
      unit: "KiB",
      ...ratioToPlain(guarded.rssPerSocket, plain.rssPerSocket),
      samples: guardedCosts.map((c) => kib(c.rssPerSocket)),
    },
    {
      variant: "plain",
      metric: "JS heap per connection",
      value: kib(plain.heapPerSocket),
      unit: "KiB",
      samples: plainCosts.map((c) => kib(c.heapPerSocket)),
    },
    {
      variant: "sockguard",
      metric: "JS heap per connection",
      value: kib(guarded.heapPerSocket),
      unit: "KiB",
      ...ratioToPlain(guarded.heapPerSocket, plain.heapPerSocket),
      samples: guardedCosts.map((c) => kib(c.heapPerSocket)),
    },
    {
      variant: "sockguard",
      metric: "RSS overhead per connection",
      value: kib(guarded.rssPerSocket - plain.rssPerSocket),
      unit: "KiB",
    },
    {
      variant: "sockguard",
      metric: "JS heap overhead per connection",
      value: kib(guarded.heapPerSocket - plain.heapPerSocket),
      unit: "KiB",
    },
  );
  checkTarget(
    report,
    "memory overhead per connection (RSS)",
    kib(guarded.rssPerSocket - plain.rssPerSocket),
    "<",
    2,
    "KiB",
  );
  checkTarget(
    report,
    "memory overhead per connection (JS heap)",
    kib(guarded.heapPerSocket - plain.heapPerSocket),
    "<=",
    1.5,
    "KiB",
  );
  report.notes.push(
    `${plain.sockets} WebSocket connections per server (ES256 tokens for both; only the guarded one verifies ` +
      "and keeps them), RSS and heap after two full collections, from a tenth of the connections to all of them; " +
      `median of ${plainCosts.length} rounds, each with fresh server processes. RSS also moves with the allocator's ` +
      "arenas and is noisy at this scale: the JS heap rows are the steadier view.",
  );
}

function reportRecheck(report: WorkloadReport, swaps: SwapTimings): void {
  report.measurements.push(
    { variant: "sockguard", metric: "swap + recheck, median", value: median(swaps.swapMs), unit: "ms" },
    { variant: "sockguard", metric: "swap + recheck, max", value: Math.max(...swaps.swapMs), unit: "ms" },
    {
      variant: "sockguard",
      metric: "whole reload() (read, check, compile, swap)",
      value: median(swaps.reloadMs),
      unit: "ms",
    },
  );
  checkTarget(
    report,
    `recheck of ${swaps.sockets.toLocaleString("en-US")} sockets (median swap)`,
    median(swaps.swapMs),
    "<",
    20,
    "ms",
  );
  report.notes.push(
    `${swaps.swapMs.length} reloads with ${swaps.sockets.toLocaleString("en-US")} sockets connected, each revision ` +
      "admitting them all: the swap visits every socket and re-arms its expiry timer.",
  );
}

/**
 * `{ vsPlain }` when plain's figure is positive. With few sockets a per-connection memory figure
 * is noise and can be zero or negative, and a ratio to it means nothing: it is left out.
 */
function ratioToPlain(guarded: number, plain: number): { vsPlain?: number } {
  return plain > 0 ? { vsPlain: guarded / plain } : {};
}
