/**
 * Workload 3, the cost of one event decision, in-process, in two ways.
 *
 * **Decision core.** The guard's per-event function (`admitEvent` in src/enforce/events.ts) is
 * private and takes a live Socket.IO socket, so this runs the same steps on a compiled policy, in
 * the same order, with the functions the guard itself calls (`decideEventIn` on the socket's one
 * facts object, its namespace found once per policy): event lookup (and, for an undeclared name,
 * the reserved names) → token expiry (one clock read) → the event's claims predicate → size →
 * arguments (arity, binary, the ajv validator). The identity is a real ES256 token verified by the
 * compiled issuer. This is the number the "< 1 µs" target holds: what the guard decides, without
 * Socket.IO around it.
 *
 * **Through Socket.IO.** The whole per-event path as the guard installs it, on a real server-side
 * socket of an in-process server: each packet is handed to the socket's engine connection exactly
 * as engine.io delivers a WebSocket message (its `data` event), so Socket.IO decodes it, the guard
 * measures and judges it, and the handler runs; no byte crosses the network. Plain, guarded and
 * guarded-with-200-events servers take alternating batches; the guard's cost is the difference.
 * A fourth server runs the guard observed (`metrics` on a prom-client registry and
 * `logDecisions: "denials"`, to a logger that drops its lines): what observing adds to an allowed
 * event is its difference from the plain guard's.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { findNamespace, type NamespaceMatch } from "../../src/compile/namespace-lookup.js";
import type { CompiledPolicy } from "../../src/compile/types.js";
import { blankEventFacts, decideEventIn, type MutableEventFacts } from "../../src/decide/event.js";
import { ALLOWED } from "../../src/decide/index.js";
import { Registry } from "prom-client";
import { createGuardObserver } from "../../src/observe/observer.js";
import {
  startInProcessServer,
  verifiedIdentity,
  type InProcessServer,
} from "../fixtures/in-process-server.js";
import { createIssuerKey, type IssuerKey } from "../fixtures/issuer-keys.js";
import {
  compileBenchPolicyFile,
  guardedPolicy,
  withTempDir,
  writePolicyFiles,
} from "../fixtures/policies.js";
import { BENCH_EVENT, BENCH_NAMESPACE, INVALID_MESSAGE, MESSAGE } from "../fixtures/scenario.js";
import { checkTarget, workloadReport, type WorkloadReport } from "../results.js";
import type { BenchSizes } from "../sizes.js";
import { median, rotation } from "../stats.js";

type Sizes = BenchSizes["decision"];

/** Untimed pause after each batch on the Socket.IO path. */
const DRAIN_PAUSE_MS = 20;

/** Refusals must not trip `maxDenials` while thousands of invalid events are judged. */
const NO_DENIAL_LIMIT = "1000000000/1s";

export async function runDecision(sizes: Sizes): Promise<WorkloadReport> {
  const report = workloadReport("Decision (in-process)");
  const key = await createIssuerKey("ES256");
  const token = await key.signUserToken("bench-user");
  await withTempDir(async (dir) => {
    const typical = await compileBenchPolicy(`${dir}/typical`, key, 0);
    const large = await compileBenchPolicy(`${dir}/large`, key, sizes.policyEvents - 1);
    await measureCore(report, sizes, typical, large, token);
    await measureThroughSocketIo(report, sizes, typical.path, large.path, token);
  });
  return report;
}

interface CompiledBenchPolicy {
  readonly path: string;
  readonly compiled: CompiledPolicy;
}

async function compileBenchPolicy(
  dir: string,
  key: IssuerKey,
  extraEvents: number,
): Promise<CompiledBenchPolicy> {
  const path = await writePolicyFiles(
    dir,
    guardedPolicy(key.verification, { extraEvents, maxDenials: NO_DENIAL_LIMIT }),
  );
  return { path, compiled: await compileBenchPolicyFile(path) };
}

// --- decision core ---------------------------------------------------------------------------

/**
 * The guard's per-event verdict on an event packet's data array, decided as the guard decides it:
 * on the socket's one facts object, rewritten for the packet (the clock read, since the socket has
 * an identity), with its namespace found once per policy.
 */
function decide(
  policy: CompiledPolicy,
  facts: MutableEventFacts,
  data: readonly unknown[],
  bytes: number,
): boolean {
  const match = matches.get(policy) ?? findNamespace(policy, facts.namespace);
  matches.set(policy, match);
  facts.bytes = bytes;
  facts.now = Date.now();
  return decideEventIn(policy, match, facts, data) === ALLOWED;
}

/** The namespace of each policy, found once as the guard's socket finds it once per policy. */
const matches = new Map<CompiledPolicy, NamespaceMatch | undefined>();

async function measureCore(
  report: WorkloadReport,
  sizes: Sizes,
  typical: CompiledBenchPolicy,
  large: CompiledBenchPolicy,
  token: string,
): Promise<void> {
  const facts = blankEventFacts(BENCH_NAMESPACE);
  facts.identity = await verifiedIdentity(typical.compiled, token);
  const valid = [BENCH_EVENT, MESSAGE];
  const invalid = [BENCH_EVENT, INVALID_MESSAGE];
  const bytes = JSON.stringify(valid).length + BENCH_NAMESPACE.length + 4;
  const cases = [
    { name: "typical event (allowed)", policy: typical.compiled, data: valid, expected: true },
    {
      name: `${sizes.policyEvents}-event policy (allowed)`,
      policy: large.compiled,
      data: valid,
      expected: true,
    },
    { name: "rejected event (schema fails)", policy: typical.compiled, data: invalid, expected: false },
  ];
  for (const c of cases) {
    if (decide(c.policy, facts, c.data, bytes) !== c.expected) {
      throw new Error(`the decision core judged "${c.name}" wrongly`);
    }
  }
  const perRound = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  let admitted = 0;
  for (let round = 0; round < sizes.rounds; round++) {
    for (const c of rotation(cases, round)) {
      const begin = performance.now();
      for (let i = 0; i < sizes.iterations; i++) {
        if (decide(c.policy, facts, c.data, bytes)) admitted++;
      }
      perRound.get(c.name)!.push(((performance.now() - begin) * 1e6) / sizes.iterations);
    }
  }
  // Keeps the loop's result observable, so the work cannot be optimised away.
  if (admitted < 0) throw new Error("unreachable");
  for (const c of cases) {
    report.measurements.push({
      variant: `core: ${c.name}`,
      metric: "time per decision",
      value: median(perRound.get(c.name)!),
      unit: "ns",
    });
  }
  checkTarget(report, "decision core, typical event", median(perRound.get(cases[0]!.name)!), "<", 1000, "ns");
  await measureObservedCount(report, sizes, typical.compiled);
  report.notes.push(
    "Core: the guard's checks in its order, called directly on a compiled policy (admitEvent itself is private " +
      `and needs a live socket); median of ${sizes.rounds} rounds of ${sizes.iterations.toLocaleString("en-US")} decisions.`,
  );
}

/**
 * What the metrics add to an allowed event, alone: the guard's observer counting it (a map lookup
 * and an increment, handed to prom-client at the next scrape).
 */
async function measureObservedCount(
  report: WorkloadReport,
  sizes: Sizes,
  policy: CompiledPolicy,
): Promise<void> {
  const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const register = new Registry();
  const observer = await createGuardObserver({ metrics: register, logDecisions: "denials" }, logger, policy);
  const perRound: number[] = [];
  let counted = 0;
  for (let round = 0; round < sizes.rounds; round++) {
    const begin = performance.now();
    for (let i = 0; i < sizes.iterations; i++) {
      if (observer.wantsAllows && observer.countAllowedEvent(BENCH_NAMESPACE, BENCH_EVENT)) counted++;
    }
    perRound.push(((performance.now() - begin) * 1e6) / sizes.iterations);
  }
  if (counted !== sizes.rounds * sizes.iterations) throw new Error("the observer did not count every event");
  const exposed = await register.metrics();
  if (!exposed.includes(`event="${BENCH_EVENT}"`))
    throw new Error("the counted events are not in the registry");
  report.measurements.push({
    variant: "core: metrics count of an allowed event",
    metric: "time per event",
    value: median(perRound),
    unit: "ns",
  });
}

// --- through Socket.IO -----------------------------------------------------------------------

/** One batch kind: a packet, the server it goes to, and the plain case it is compared with. */
interface SocketIoCase {
  readonly name: string;
  readonly server: InProcessServer;
  readonly packet: string;
  readonly reachesHandler: boolean;
  /** The plain Socket.IO case with the same packet; absent for the plain cases themselves. */
  readonly baseline?: string;
  /** What the difference from the baseline is called; "added by the guard" by default. */
  readonly added?: string;
}

/** Hands `count` copies of `packet` to the socket's engine connection and waits until Socket.IO dispatched them. */
async function injectBatch(server: InProcessServer, packet: string, count: number): Promise<number> {
  const conn = server.socket.client.conn;
  const begin = performance.now();
  for (let i = 0; i < count; i++) conn.emit("data", packet);
  // Socket.IO dispatches on process.nextTick twice; every tick has run before an immediate.
  await new Promise((resolve) => setImmediate(resolve));
  const nsPerEvent = ((performance.now() - begin) * 1e6) / count;
  // Untimed: lets the in-process client read whatever was written to it (acks, denial notices), so
  // that work never lands in the next batch's time.
  await sleep(DRAIN_PAUSE_MS);
  return nsPerEvent;
}

async function measureThroughSocketIo(
  report: WorkloadReport,
  sizes: Sizes,
  typicalPath: string,
  largePath: string,
  token: string,
): Promise<void> {
  const validPacket = `2${BENCH_NAMESPACE},${JSON.stringify([BENCH_EVENT, MESSAGE])}`;
  // With an ack id: the handler acknowledges, so the ack's encoding and its write to the client's
  // WebSocket are part of each event, as in the throughput workload.
  const ackedPacket = `2${BENCH_NAMESPACE},7${JSON.stringify([BENCH_EVENT, MESSAGE])}`;
  const invalidPacket = `2${BENCH_NAMESPACE},${JSON.stringify([BENCH_EVENT, INVALID_MESSAGE])}`;
  const servers: InProcessServer[] = [];
  try {
    servers.push(await startInProcessServer("plain", undefined, token));
    servers.push(await startInProcessServer("sockguard", typicalPath, token));
    servers.push(await startInProcessServer(`sockguard, ${sizes.policyEvents} events`, largePath, token));
    // Refusals leave work behind (notices to send, garbage): they get a server of their own, so it
    // never lands in another case's batches.
    servers.push(await startInProcessServer("sockguard (refusing)", typicalPath, token));
    const dropLines = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const observe = { metrics: new Registry(), logDecisions: "denials", logger: dropLines } as const;
    servers.push(await startInProcessServer("sockguard observed", typicalPath, token, observe));
    const [plain, guarded, large, refusing, observed] = servers as [
      InProcessServer,
      InProcessServer,
      InProcessServer,
      InProcessServer,
      InProcessServer,
    ];
    const plainCase = "plain: allowed event";
    const plainAckedCase = "plain: allowed event, acknowledged";
    const cases: SocketIoCase[] = [
      { name: plainCase, server: plain, packet: validPacket, reachesHandler: true },
      {
        name: "sockguard: allowed event",
        server: guarded,
        packet: validPacket,
        reachesHandler: true,
        baseline: plainCase,
      },
      {
        name: `${large.name}: allowed event`,
        server: large,
        packet: validPacket,
        reachesHandler: true,
        baseline: plainCase,
      },
      {
        name: "sockguard: rejected event (schema fails)",
        server: refusing,
        packet: invalidPacket,
        reachesHandler: false,
        baseline: plainCase,
      },
      {
        name: "sockguard + metrics + logDecisions denials: allowed event",
        server: observed,
        packet: validPacket,
        reachesHandler: true,
        baseline: "sockguard: allowed event",
        added: "added by metrics + decision log",
      },
      { name: plainAckedCase, server: plain, packet: ackedPacket, reachesHandler: true },
      {
        name: "sockguard: allowed event, acknowledged",
        server: guarded,
        packet: ackedPacket,
        reachesHandler: true,
        baseline: plainAckedCase,
      },
    ];
    const perRound = new Map<string, number[]>(cases.map((c) => [c.name, []]));
    for (const c of cases) await injectBatch(c.server, c.packet, sizes.socketBatch);
    for (let round = 0; round < sizes.socketRounds; round++) {
      for (const c of rotation(cases, round)) {
        const before = c.server.handled();
        perRound.get(c.name)!.push(await injectBatch(c.server, c.packet, sizes.socketBatch));
        const reached = c.server.handled() - before;
        if (reached !== (c.reachesHandler ? sizes.socketBatch : 0)) {
          throw new Error(`${c.name}: ${reached} of ${sizes.socketBatch} events reached the handler`);
        }
      }
    }
    const medianOf = (name: string): number => median(perRound.get(name)!);
    for (const c of cases) {
      report.measurements.push({
        variant: `Socket.IO path: ${c.name}`,
        metric: "time per event",
        value: medianOf(c.name),
        unit: "ns",
        ...(c.baseline === undefined ? {} : { vsPlain: medianOf(c.name) / medianOf(c.baseline) }),
      });
    }
    for (const c of cases) {
      if (c.baseline === undefined) continue;
      report.measurements.push({
        variant: `Socket.IO path: ${c.name}`,
        metric: c.added ?? "added by the guard",
        value: medianOf(c.name) - medianOf(c.baseline),
        unit: "ns",
      });
    }
    // Paired per round, like the throughput ratios: drift between rounds cancels out.
    const observedName = "sockguard + metrics + logDecisions denials: allowed event";
    const pairedAdded = perRound
      .get(observedName)!
      .map((value, round) => value - perRound.get("sockguard: allowed event")![round]!);
    checkTarget(
      report,
      "metrics + decision log, added per allowed event",
      median(pairedAdded),
      "<",
      200,
      "ns",
    );
    report.notes.push(
      "Socket.IO path: packets handed to a real server-side socket's engine connection (no network), through " +
        `decoding, the guard and dispatch to the handler; median of ${sizes.socketRounds} alternating batches of ` +
        `${sizes.socketBatch.toLocaleString("en-US")}; "added by the guard" compares with plain Socket.IO on the ` +
        "same packets. A rejected event also sends its `sockguard:denied` notice; an acknowledged one writes " +
        "its ack to the client's WebSocket.",
    );
  } finally {
    for (const server of servers) await server.close();
  }
}
