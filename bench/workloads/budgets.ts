/**
 * The cost of an event budget: the same event with a memory-counted `rateLimit` and without one,
 * and against plain Socket.IO, in one run.
 *
 * **Decision path.** What the guard runs for one event, on a compiled policy: without a budget,
 * `decideEvent` (synchronous); with one, `decideEventAccess`, then the budget spent in
 * rate-limiter-flexible's `RateLimiterMemory` and the payload checks (`spendThenDecidePayload`),
 * awaited as the guard awaits it. The limit is far above what the loop spends, so every event is
 * allowed and both variants do the same checks; the difference is what the budget adds. Target:
 * under 1.5 µs.
 *
 * **Through Socket.IO.** Packets handed to a real server-side socket's engine connection (no
 * network) on three in-process servers, plain, guarded and guarded with the budget, in alternating
 * batches of 64 (the most events of one socket that may wait for a store at once), each batch timed
 * until the handler has seen all of it.
 */
import { performance } from "node:perf_hooks";
import { MAX_UNDECIDED_EVENTS } from "../../src/budget/arrival-order.js";
import type { BudgetSpender } from "../../src/budget/keys.js";
import { MemoryRateStore } from "../../src/budget/memory-rate-store.js";
import {
  ALLOWED,
  decideEvent,
  decideEventAccess,
  eventBudgets,
  spendThenDecidePayload,
  type EventFacts,
} from "../../src/decide/index.js";
import {
  injectBatches,
  startInProcessServer,
  verifiedIdentity,
  type InProcessServer,
} from "../fixtures/in-process-server.js";
import { createIssuerKey } from "../fixtures/issuer-keys.js";
import {
  compileBenchPolicyFile,
  guardedPolicy,
  withTempDir,
  writePolicyFiles,
} from "../fixtures/policies.js";
import { BENCH_EVENT, BENCH_NAMESPACE, MESSAGE } from "../fixtures/scenario.js";
import { checkTarget, workloadReport, type WorkloadReport } from "../results.js";
import type { BenchSizes } from "../sizes.js";
import { median, rotation } from "../stats.js";

type Sizes = BenchSizes["decision"];

/** A limit no loop here reaches: every event is allowed, and every one spends a point. */
const UNREACHED_LIMIT = "1000000000/1m";
const NO_DENIAL_LIMIT = "1000000000/1s";

export async function runBudgets(sizes: Sizes): Promise<WorkloadReport> {
  const report = workloadReport("Event budgets");
  const key = await createIssuerKey("ES256");
  const token = await key.signUserToken("bench-user");
  await withTempDir(async (dir) => {
    const unlimitedPath = await writePolicyFiles(
      `${dir}/unlimited`,
      guardedPolicy(key.verification, { maxDenials: NO_DENIAL_LIMIT }),
    );
    const limitedPath = await writePolicyFiles(
      `${dir}/limited`,
      guardedPolicy(key.verification, { maxDenials: NO_DENIAL_LIMIT, rateLimit: UNREACHED_LIMIT }),
    );
    await measureDecisionPath(report, sizes, unlimitedPath, limitedPath, token);
    await measureThroughSocketIo(report, sizes, unlimitedPath, limitedPath, token);
  });
  return report;
}

async function measureDecisionPath(
  report: WorkloadReport,
  sizes: Sizes,
  unlimitedPath: string,
  limitedPath: string,
  token: string,
): Promise<void> {
  const unlimited = await compileBenchPolicyFile(unlimitedPath);
  const limited = await compileBenchPolicyFile(limitedPath);
  const identity = await verifiedIdentity(unlimited, token);
  const data = [BENCH_EVENT, MESSAGE];
  const bytes = JSON.stringify(data).length + BENCH_NAMESPACE.length + 4;
  const facts = (): EventFacts => ({
    namespace: BENCH_NAMESPACE,
    identity,
    data,
    ackRequested: false,
    bytes,
    carriedBinary: false,
    now: Date.now(),
  });
  const store = new MemoryRateStore();
  const spender: BudgetSpender = { identity, address: "203.0.113.7", connection: "bench" };
  const limits = eventBudgets(limited, facts());
  if (limits.length !== 1 || eventBudgets(unlimited, facts()).length !== 0) {
    throw new Error("the bench policies do not differ by exactly one event budget");
  }
  const withoutBudget = (): boolean => decideEvent(unlimited, facts()) === ALLOWED;
  const withBudget = async (): Promise<boolean> => {
    const event = facts();
    if (decideEventAccess(limited, event) !== ALLOWED) return false;
    const outcome = await spendThenDecidePayload(
      limited,
      event,
      eventBudgets(limited, event),
      store,
      spender,
    );
    return outcome.verdict === ALLOWED;
  };
  const cases = ["without a budget", "with a memory rate limit"] as const;
  const perRound = new Map<string, number[]>(cases.map((name) => [name, []]));
  let admitted = 0;
  for (let round = 0; round < sizes.rounds; round++) {
    for (const name of rotation(cases, round)) {
      const begin = performance.now();
      if (name === "without a budget") {
        for (let i = 0; i < sizes.iterations; i++) if (withoutBudget()) admitted++;
      } else {
        for (let i = 0; i < sizes.iterations; i++) if (await withBudget()) admitted++;
      }
      perRound.get(name)!.push(((performance.now() - begin) * 1e6) / sizes.iterations);
    }
  }
  if (admitted !== sizes.rounds * sizes.iterations * cases.length) {
    throw new Error("an event the bench sends was refused on the decision path");
  }
  const without = median(perRound.get(cases[0])!);
  const withLimit = median(perRound.get(cases[1])!);
  report.measurements.push(
    { variant: "decision path: without a budget", metric: "time per event", value: without, unit: "ns" },
    {
      variant: "decision path: with a memory rate limit",
      metric: "time per event",
      value: withLimit,
      unit: "ns",
    },
    {
      variant: "decision path: with a memory rate limit",
      metric: "added by the budget",
      value: withLimit - without,
      unit: "ns",
    },
  );
  checkTarget(
    report,
    "memory rate limit, added per event on the decision path",
    withLimit - without,
    "<",
    1500,
    "ns",
  );
  report.notes.push(
    `Decision path: median of ${sizes.rounds} alternating rounds of ${sizes.iterations.toLocaleString("en-US")} ` +
      "events; the budgeted variant is awaited per event, as the guard awaits its store.",
  );
}

async function measureThroughSocketIo(
  report: WorkloadReport,
  sizes: Sizes,
  unlimitedPath: string,
  limitedPath: string,
  token: string,
): Promise<void> {
  const packet = `2${BENCH_NAMESPACE},${JSON.stringify([BENCH_EVENT, MESSAGE])}`;
  const batches = Math.max(1, Math.round(sizes.socketBatch / MAX_UNDECIDED_EVENTS));
  const servers: InProcessServer[] = [];
  try {
    servers.push(await startInProcessServer("plain", undefined, token));
    servers.push(await startInProcessServer("sockguard", unlimitedPath, token));
    servers.push(await startInProcessServer("sockguard, memory rate limit", limitedPath, token));
    const [plain, unlimited, limited] = servers as [InProcessServer, InProcessServer, InProcessServer];
    const cases = [
      { name: "plain", server: plain },
      { name: "sockguard, no budget", server: unlimited },
      { name: "sockguard, memory rate limit", server: limited },
    ];
    const perRound = new Map<string, number[]>(cases.map((c) => [c.name, []]));
    for (const c of cases) await injectBatches(c.server, packet, 1, MAX_UNDECIDED_EVENTS);
    for (let round = 0; round < sizes.socketRounds; round++) {
      for (const c of rotation(cases, round))
        perRound.get(c.name)!.push(await injectBatches(c.server, packet, batches, MAX_UNDECIDED_EVENTS));
    }
    const plainNs = median(perRound.get("plain")!);
    for (const c of cases) {
      const value = median(perRound.get(c.name)!);
      report.measurements.push({
        variant: `Socket.IO path: ${c.name}`,
        metric: "time per event",
        value,
        unit: "ns",
        ...(c.server === plain ? {} : { vsPlain: value / plainNs }),
      });
    }
    report.measurements.push({
      variant: "Socket.IO path: sockguard, memory rate limit",
      metric: "added by the budget",
      value:
        median(perRound.get("sockguard, memory rate limit")!) - median(perRound.get("sockguard, no budget")!),
      unit: "ns",
    });
    report.notes.push(
      `Socket.IO path: median of ${sizes.socketRounds} alternating rounds of ${batches} batches of ` +
        `${MAX_UNDECIDED_EVENTS} events, each batch timed until the handler saw all of it.`,
    );
  } finally {
    for (const server of servers) await server.close();
  }
}
