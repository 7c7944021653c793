/**
 * Runs the benchmark workloads one after another and gathers their reports. A workload that fails
 * is reported with its error and the others still run. `bench/run.ts` is the command line; the
 * smoke test calls {@link runBenchmarks} with tiny sizes.
 */
import { writeFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, platform, release, totalmem } from "node:os";
import { performance } from "node:perf_hooks";
import type { BenchResults, MachineInfo, WorkloadReport } from "./results.js";
import type { BenchSizes } from "./sizes.js";
import { runBudgets } from "./workloads/budgets.js";
import { runDecision } from "./workloads/decision.js";
import { runFleet } from "./workloads/fleet.js";
import { runHandshakes } from "./workloads/handshakes.js";
import { runReconnects } from "./workloads/reconnects.js";
import { runReload } from "./workloads/reload.js";
import { runShadow } from "./workloads/shadow.js";
import { runThroughput } from "./workloads/throughput.js";
import { runEmits } from "./workloads/emits.js";
import { runValidate } from "./workloads/validate.js";

/** A workload by its command-line name, and the report titles it produces (for a failure). */
interface Workload {
  readonly id: string;
  readonly titles: readonly string[];
  run(sizes: BenchSizes): Promise<WorkloadReport | WorkloadReport[]>;
}

export const WORKLOADS: readonly Workload[] = [
  { id: "throughput", titles: ["Event throughput"], run: (s) => runThroughput(s.throughput) },
  { id: "handshakes", titles: ["Handshakes"], run: (s) => runHandshakes(s.handshakes) },
  {
    id: "reconnects",
    titles: ["Handshakes, unique tokens", "Reconnect storm"],
    run: (s) => runReconnects(s.reconnects),
  },
  { id: "decision", titles: ["Decision (in-process)"], run: (s) => runDecision(s.decision) },
  { id: "reload", titles: ["Reload"], run: (s) => runReload(s.reload) },
  { id: "fleet", titles: ["Recheck", "Memory"], run: (s) => runFleet(s.fleet) },
  { id: "validate", titles: ["Validate"], run: (s) => runValidate(s.validate) },
  { id: "emits", titles: ["Emits"], run: (s) => runEmits(s.emits) },
  { id: "budgets", titles: ["Event budgets"], run: (s) => runBudgets(s.decision) },
  { id: "shadow", titles: ["Shadow policy"], run: (s) => runShadow(s.decision) },
];

export interface BenchOptions {
  readonly sizes: BenchSizes;
  /** `full`, `quick` or `smoke`: printed with the results. */
  readonly mode: string;
  /** Where the JSON results go; nothing is written without it. */
  readonly outPath?: string;
  /** Workload ids to run (default all). */
  readonly only?: readonly string[];
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

/**
 * Runs the workloads and returns (and optionally writes) the results.
 *
 * @example
 * const results = await runBenchmarks({ sizes: QUICK_SIZES, mode: "quick", outPath: "bench/results.json" });
 * process.stdout.write(renderMarkdown(results));
 */
export async function runBenchmarks(options: BenchOptions): Promise<BenchResults> {
  const log = options.log ?? (() => undefined);
  const begin = performance.now();
  const results: BenchResults = {
    mode: options.mode,
    startedAt: new Date().toISOString(),
    durationMs: 0,
    machine: machineInfo(),
    workloads: [],
  };
  for (const workload of WORKLOADS) {
    if (options.only && !options.only.includes(workload.id)) continue;
    log(`running ${workload.id}...`);
    const started = performance.now();
    let reports: WorkloadReport[];
    try {
      const outcome = await workload.run(options.sizes);
      reports = Array.isArray(outcome) ? outcome : [outcome];
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`${workload.id} failed: ${message}`);
      reports = workload.titles.map((title) => ({
        workload: title,
        measurements: [],
        targets: [],
        notes: [],
        error: message,
      }));
    }
    const durationMs = performance.now() - started;
    for (const report of reports) report.durationMs = durationMs;
    results.workloads.push(...reports);
    log(`${workload.id} done in ${(durationMs / 1000).toFixed(1)} s`);
  }
  results.durationMs = performance.now() - begin;
  results.machine.loadAverageEnd = loadavg()[0]!;
  if (options.outPath) await writeFile(options.outPath, `${JSON.stringify(results, null, 2)}\n`);
  return results;
}

function machineInfo(): MachineInfo {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    node: process.version,
    platform: `${platform()} ${release()}`,
    totalMemoryMiB: Math.round(totalmem() / 2 ** 20),
    loadAverageStart: loadavg()[0]!,
  };
}
