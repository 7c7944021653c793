/**
 * What a benchmark run reports: measurements per workload and variant, ratios against plain
 * Socket.IO, and each target with PASS or MISS. The same structure is printed as Markdown and
 * written as JSON.
 */

/** One number a workload measured. */
export interface Measurement {
  readonly variant: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  /** This value divided by the plain variant's same metric, when there is one. */
  readonly vsPlain?: number;
  /** The per-window (or per-round) values the value summarises, in the order measured (JSON only). */
  readonly samples?: readonly number[];
}

/** A target of the issue, checked against this run's numbers. */
export interface TargetCheck {
  readonly target: string;
  readonly measured: number;
  readonly limit: number;
  readonly unit: string;
  readonly comparison: ">=" | "<=" | "<";
  readonly pass: boolean;
}

export interface WorkloadReport {
  readonly workload: string;
  readonly measurements: Measurement[];
  readonly targets: TargetCheck[];
  /** What the numbers mean, and anything odd seen while measuring. */
  readonly notes: string[];
  /** Set when the workload could not run; its measurements are then incomplete. */
  error?: string;
  durationMs?: number;
}

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly platform: string;
  readonly totalMemoryMiB: number;
  /** 1-minute load average when the run started and ended: other work on the machine shows here. */
  readonly loadAverageStart: number;
  loadAverageEnd?: number;
}

export interface BenchResults {
  readonly mode: string;
  readonly startedAt: string;
  durationMs: number;
  readonly machine: MachineInfo;
  readonly workloads: WorkloadReport[];
}

/** A new, empty report for `workload`. */
export function workloadReport(workload: string): WorkloadReport {
  return { workload, measurements: [], targets: [], notes: [] };
}

/**
 * Records a target that `measured` must reach (`>=`) or stay under (`<=`, `<`). A missing measurement
 * (NaN) is a MISS.
 *
 * @example
 * checkTarget(report, "throughput ≥ 0.95 × plain", ratio(guarded, plain), ">=", 0.95, "×");
 */
export function checkTarget(
  report: WorkloadReport,
  target: string,
  measured: number,
  comparison: ">=" | "<=" | "<",
  limit: number,
  unit: string,
): void {
  const holds =
    comparison === ">=" ? measured >= limit : comparison === "<=" ? measured <= limit : measured < limit;
  const pass = Number.isFinite(measured) && holds;
  report.targets.push({ target, measured, limit, unit, comparison, pass });
}

/** The whole run as Markdown: the machine, every measurement, then every target. */
export function renderMarkdown(results: BenchResults): string {
  const m = results.machine;
  const lines = [
    `### sockguard benchmarks (${results.mode} run, ${results.startedAt})`,
    "",
    `Machine: ${m.cpus} CPU(s), ${m.cpuModel}, ${m.totalMemoryMiB} MiB, Node.js ${m.node} on ${m.platform}; ` +
      `load average ${formatNumber(m.loadAverageStart)} at start, ${formatNumber(m.loadAverageEnd ?? Number.NaN)} at end. ` +
      `Run took ${(results.durationMs / 1000).toFixed(0)} s.`,
    "",
    "| Workload | Variant | Metric | Value | vs plain |",
    "|---|---|---|---:|---:|",
  ];
  for (const workload of results.workloads) {
    for (const x of workload.measurements) {
      const vs = x.vsPlain === undefined ? "" : `${formatNumber(x.vsPlain, 3)}×`;
      lines.push(
        `| ${workload.workload} | ${x.variant} | ${x.metric} | ${formatNumber(x.value)} ${x.unit} | ${vs} |`,
      );
    }
    if (workload.error)
      lines.push(`| ${workload.workload} | | did not run: ${escapeCell(workload.error)} | | |`);
  }
  lines.push("", "| Target | Measured | Limit | Result |", "|---|---:|---:|---|");
  for (const workload of results.workloads) {
    for (const t of workload.targets) {
      lines.push(
        `| ${t.target} | ${formatNumber(t.measured, 3)} ${t.unit} | ${t.comparison} ${formatNumber(t.limit, 3)} ${t.unit} | ${t.pass ? "PASS" : "**MISS**"} |`,
      );
    }
  }
  const notes = results.workloads.flatMap((w) => w.notes.map((note) => `- ${w.workload}: ${note}`));
  if (notes.length > 0) lines.push("", "Notes:", ...notes);
  return `${lines.join("\n")}\n`;
}

/** A number with sensible precision for a table: 3 significant digits, thousands kept whole. */
export function formatNumber(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return "n/a";
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  return Number(value.toPrecision(digits)).toString();
}

function escapeCell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}
