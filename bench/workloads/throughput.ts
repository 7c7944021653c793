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
import { concatSamples, median, pairedRatio, percentile, rotation } from "../stats.js";

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

/** Per-window figures of one variant, in round order. */
interface VariantWindows {
  readonly rate: number[];
  readonly p99: number[];
  readonly cpu: number[];
  /** Every latency of every window, in microseconds. */
  readonly latencies: Float64Array;
}

function summarise(report: WorkloadReport, rounds: Map<Variant, Window[]>, clients: number): void {
  const windows = new Map<Variant, VariantWindows>();
  for (const variant of VARIANTS) {
    const results = rounds.get(variant)!;
    const errors = results.reduce((sum, r) => sum + r.errors, 0);
    if (errors > 0) report.notes.push(`${variant}: ${errors} event(s) refused or never acknowledged`);
    windows.set(variant, {
      rate: results.map((r) => (r.events / r.elapsedMs) * 1000),
      p99: results.map((r) => percentile(r.latenciesUs, 99) / 1000),
      cpu: results.map((r) => r.serverCpuMicros / r.events),
      latencies: concatSamples(results.map((r) => r.latenciesUs)),
    });
  }
  const of = (variant: Variant): VariantWindows => windows.get(variant)!;
  const vsPlain = (variant: Variant, figure: "rate" | "p99" | "cpu") =>
    variant === "plain" ? {} : { vsPlain: pairedRatio(of(variant)[figure], of("plain")[figure]) };
  for (const variant of VARIANTS) {
    const w = of(variant);
    report.measurements.push(
      {
        variant,
        metric: "throughput",
        value: median(w.rate),
        unit: "events/s",
        ...vsPlain(variant, "rate"),
        samples: w.rate,
      },
      { variant, metric: "p50 latency", value: percentile(w.latencies, 50) / 1000, unit: "ms" },
      {
        variant,
        metric: "p99 latency",
        value: percentile(w.latencies, 99) / 1000,
        unit: "ms",
        ...vsPlain(variant, "p99"),
        samples: w.p99,
      },
      {
        variant,
        metric: "server CPU per event",
        value: median(w.cpu),
        unit: "µs",
        ...vsPlain(variant, "cpu"),
        samples: w.cpu,
      },
    );
  }
  const guarded = of("sockguard");
  checkTarget(
    report,
    "throughput, sockguard ÷ plain",
    pairedRatio(guarded.rate, of("plain").rate),
    ">=",
    0.95,
    "×",
  );
  checkTarget(
    report,
    "p99 latency, sockguard ÷ plain",
    pairedRatio(guarded.p99, of("plain").p99),
    "<=",
    1.1,
    "×",
  );
  checkTarget(
    report,
    "server CPU per event, sockguard ÷ plain",
    pairedRatio(guarded.cpu, of("plain").cpu),
    "<=",
    1.03,
    "×",
  );
  checkTarget(
    report,
    "throughput, sockguard ÷ hand-written",
    pairedRatio(guarded.rate, of("hand-written").rate),
    ">=",
    1,
    "×",
  );
  report.notes.push(
    `${clients} connections per variant, one event in flight per connection, ${rounds.get("plain")!.length} rounds ` +
      "of back-to-back windows (one per variant, in rotating order). Values are medians over windows (latency " +
      "percentiles over all events); ratios are the median of the per-round ratios, so each compares windows " +
      "run seconds apart under the same outside load. Server CPU per event is the server process's user + system " +
      "CPU time in a window divided by the events acknowledged in it: the guard's cost even when the server is not " +
      "the bottleneck.",
  );
}
