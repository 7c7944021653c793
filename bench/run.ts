/**
 * `npm run bench [-- --quick] [-- --only throughput,decision] [-- --out FILE]`: runs the
 * benchmarks, prints the Markdown table on stdout (progress on stderr) and writes the JSON results
 * (default `bench/results.json`). A run that outlives its time budget is stopped, so the command
 * always ends.
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runBenchmarks, WORKLOADS } from "./bench.js";
import { renderMarkdown } from "./results.js";
import { FULL_SIZES, QUICK_SIZES } from "./sizes.js";

/** A full run takes about four minutes on two cores; past these budgets something is stuck. */
const TIME_BUDGET_MS = { full: 15 * 60_000, quick: 3 * 60_000 };

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    out: { type: "string", default: fileURLToPath(new URL("results.json", import.meta.url)) },
  },
});

const mode = values.quick ? "quick" : "full";
const only = values.only?.split(",").map((id) => id.trim());
const unknown = only?.filter((id) => !WORKLOADS.some((workload) => workload.id === id)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(
    `unknown workload(s): ${unknown.join(", ")}; choose from ${WORKLOADS.map((w) => w.id).join(", ")}\n`,
  );
  process.exit(2);
}

const watchdog = setTimeout(() => {
  process.stderr.write(
    `the benchmark run exceeded its ${TIME_BUDGET_MS[mode] / 60_000}-minute budget; stopping\n`,
  );
  process.exit(3);
}, TIME_BUDGET_MS[mode]);
watchdog.unref();

const results = await runBenchmarks({
  sizes: values.quick ? QUICK_SIZES : FULL_SIZES,
  mode,
  outPath: values.out,
  ...(only ? { only } : {}),
  log: (line) => process.stderr.write(`bench: ${line}\n`),
});
process.stdout.write(renderMarkdown(results));
process.stderr.write(`bench: results written to ${values.out}\n`);
const failed = results.workloads.filter((workload) => workload.error !== undefined);
// Helper processes are gone by now; exit explicitly so a stray handle can never keep the run alive.
process.exit(failed.length > 0 ? 1 : 0);
