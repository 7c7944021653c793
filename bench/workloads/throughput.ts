/**
 * Workload 1, event throughput and latency: 50 WebSocket connections per variant, each sending the
 * ~200-byte chat message to the `echo` handler and waiting for its acknowledgement before sending
 * the next (closed loop). Variants, each its own server process: plain Socket.IO, sockguard (the
 * bench policy: origin, WebSocket only, ES256 token, read scope to connect, write scope and the
 * message schema per event) and the hand-written equivalent (ajv + jose in `socket.use`). One
 * load-generator process drives one variant at a time; the variants alternate in rotating order.
 */
import { CLIENT_ENTRY, HelperProcess, SERVER_ENTRY, stopAll } from "../processes/child-process.js";
import type { LoadResult } from "../client/client-main.js";
import { createIssuerKey } from "../fixtures/issuer-keys.js";
import { guardedPolicy, withTempDir, writePolicyFiles } from "../fixtures/policies.js";
import { BENCH_EVENT, BENCH_NAMESPACE, BENCH_ORIGIN, MESSAGE } from "../fixtures/scenario.js";
import { checkTarget, workloadReport, type WorkloadReport } from "../results.js";
import { benchHandwrittenConfig } from "../server/handwritten-guard.js";
import type { ServerVariant } from "../server/server-main.js";
import type { BenchSizes } from "../sizes.js";
import { concatSamples, median, percentile, ratio, rotation } from "../stats.js";

const VARIANTS = ["plain", "sockguard", "hand-written"] as const;
type Variant = (typeof VARIANTS)[number];

/** One measured window: what the load generator saw, and the CPU time the server spent meanwhile. */
interface Window extends LoadResult {
  readonly serverCpuMicros: number;
}

export async function runThroughput(sizes: BenchSizes["throughput"]): Promise<WorkloadReport> {
  const report = workloadReport("Event throughput");
  const key = await createIssuerKey("ES256");
  const token = await key.signUserToken("bench-user");
  await withTempDir(async (dir) => {
    const policyPath = await writePolicyFiles(dir, guardedPolicy(key.verification));
    const serverVariants: Record<Variant, ServerVariant> = {
      plain: { kind: "plain" },
      sockguard: { kind: "sockguard", policyPath },
      "hand-written": { kind: "handwritten", config: benchHandwrittenConfig(key.verification) },
    };
    const helpers: HelperProcess[] = [];
    try {
      const servers = await Promise.all(VARIANTS.map(() => HelperProcess.start(SERVER_ENTRY)));
      helpers.push(...servers);
      const client = await HelperProcess.start(CLIENT_ENTRY);
      helpers.push(client);
      for (const [i, variant] of VARIANTS.entries()) {
        const { url } = await servers[i]!.call<{ url: string }>("start", serverVariants[variant]);
        await client.call("connect", {
          group: variant,
          target: { url, namespace: BENCH_NAMESPACE, token, origin: BENCH_ORIGIN },
          count: sizes.clients,
          concurrency: 10,
        });
      }

      const argumentJson = JSON.stringify(MESSAGE);
      const window = async (variant: Variant, durationMs: number): Promise<Window> => {
        const server = servers[VARIANTS.indexOf(variant)]!;
        const cpuBefore = await server.call<number>("cpuMicros", null);
        const load = await client.call<LoadResult>("load", {
          group: variant,
          durationMs,
          event: BENCH_EVENT,
          argumentJson,
        });
        const cpuAfter = await server.call<number>("cpuMicros", null);
        return { ...load, serverCpuMicros: cpuAfter - cpuBefore };
      };
      for (const variant of VARIANTS) await window(variant, sizes.warmupMs);

      const rounds = new Map<Variant, Window[]>(VARIANTS.map((v) => [v, []]));
      for (let round = 0; round < sizes.rounds; round++) {
        for (const variant of rotation(VARIANTS, round))
          rounds.get(variant)!.push(await window(variant, sizes.windowMs));
      }
      summarise(report, rounds, sizes.clients);
    } finally {
      await stopAll(helpers);
    }
  });
  return report;
}

function summarise(report: WorkloadReport, rounds: Map<Variant, Window[]>, clients: number): void {
  const rate = new Map<Variant, number>();
  const cpu = new Map<Variant, number>();
  const rateSamples = new Map<Variant, number[]>();
  const cpuSamples = new Map<Variant, number[]>();
  const p50 = new Map<Variant, number>();
  const p99 = new Map<Variant, number>();
  for (const variant of VARIANTS) {
    const results = rounds.get(variant)!;
    const errors = results.reduce((sum, r) => sum + r.errors, 0);
    if (errors > 0) report.notes.push(`${variant}: ${errors} event(s) refused or never acknowledged`);
    rateSamples.set(
      variant,
      results.map((r) => (r.events / r.elapsedMs) * 1000),
    );
    cpuSamples.set(
      variant,
      results.map((r) => r.serverCpuMicros / r.events),
    );
    rate.set(variant, median(rateSamples.get(variant)!));
    cpu.set(variant, median(cpuSamples.get(variant)!));
    const latencies = concatSamples(results.map((r) => r.latenciesUs));
    p50.set(variant, percentile(latencies, 50) / 1000);
    p99.set(variant, percentile(latencies, 99) / 1000);
  }
  const plain = (values: Map<Variant, number>): number => values.get("plain")!;
  for (const variant of VARIANTS) {
    const vs = (values: Map<Variant, number>) =>
      variant === "plain" ? {} : { vsPlain: ratio(values.get(variant)!, plain(values)) };
    report.measurements.push(
      {
        variant,
        metric: "throughput",
        value: rate.get(variant)!,
        unit: "events/s",
        ...vs(rate),
        samples: rateSamples.get(variant)!,
      },
      { variant, metric: "p50 latency", value: p50.get(variant)!, unit: "ms", ...vs(p50) },
      { variant, metric: "p99 latency", value: p99.get(variant)!, unit: "ms", ...vs(p99) },
      {
        variant,
        metric: "server CPU per event",
        value: cpu.get(variant)!,
        unit: "µs",
        ...vs(cpu),
        samples: cpuSamples.get(variant)!,
      },
    );
  }
  checkTarget(
    report,
    "throughput, sockguard ÷ plain",
    ratio(rate.get("sockguard")!, plain(rate)),
    ">=",
    0.95,
    "×",
  );
  checkTarget(
    report,
    "p99 latency, sockguard ÷ plain",
    ratio(p99.get("sockguard")!, plain(p99)),
    "<=",
    1.1,
    "×",
  );
  checkTarget(
    report,
    "throughput, sockguard ÷ hand-written",
    ratio(rate.get("sockguard")!, rate.get("hand-written")!),
    ">=",
    1,
    "×",
  );
  report.notes.push(
    `${clients} connections per variant, one event in flight per connection; throughput is the median of ` +
      `${rounds.get("plain")!.length} alternating windows, latencies are pooled over them. Server CPU per event ` +
      `is the server process's user + system CPU time over a window divided by the events acknowledged in it: ` +
      `it shows the guard's cost even when the server is not the bottleneck.`,
  );
}
