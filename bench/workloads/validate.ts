/**
 * Workload 6, `sockguard validate` on a 200-event policy: the built CLI (`dist/cli/main.js`, the
 * package's `bin`, as CI runs it) spawned as a fresh process each time and timed from spawn to
 * exit. Node.js's own start-up (`node -e 0`) is measured alternately for reference, and so is the
 * loader alone, in-process (`loadPolicy`, warm), which is what the CLI spends its time on.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { loadPolicy } from "../../src/index.js";
import { createIssuerKey } from "../fixtures/issuer-keys.js";
import { guardedPolicy, withTempDir, writePolicyFiles } from "../fixtures/policies.js";
import { workloadReport, type WorkloadReport } from "../results.js";
import type { BenchSizes } from "../sizes.js";
import { median } from "../stats.js";

/** The package's `bin`, built by `npm run build` (which `npm run bench` runs first). */
export const BUILT_CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

export async function runValidate(sizes: BenchSizes["validate"]): Promise<WorkloadReport> {
  const report = workloadReport("Validate");
  if (!existsSync(BUILT_CLI)) throw new Error(`the CLI is not built (${BUILT_CLI}); run npm run build first`);
  const key = await createIssuerKey("RS256");
  await withTempDir(async (dir) => {
    const policyPath = await writePolicyFiles(
      dir,
      guardedPolicy(key.verification, { extraEvents: sizes.policyEvents - 1 }),
    );
    const cliMs: number[] = [];
    const nodeMs: number[] = [];
    for (let run = 0; run < sizes.runs; run++) {
      nodeMs.push(await timeProcess(["-e", "0"]));
      cliMs.push(await timeProcess([BUILT_CLI, "validate", policyPath]));
    }
    const loadMs: number[] = [];
    await loadPolicy(policyPath);
    for (let run = 0; run < Math.max(3, sizes.runs); run++) {
      const begin = performance.now();
      const loaded = await loadPolicy(policyPath);
      loadMs.push(performance.now() - begin);
      if (!loaded.policy) throw new Error("the generated policy did not load");
    }
    report.measurements.push(
      { variant: "sockguard validate (CLI process)", metric: "wall time", value: median(cliMs), unit: "ms" },
      { variant: "node -e 0 (start-up alone)", metric: "wall time", value: median(nodeMs), unit: "ms" },
      { variant: "loadPolicy (in-process, warm)", metric: "time", value: median(loadMs), unit: "ms" },
    );
    report.notes.push(
      `A generated ${sizes.policyEvents}-event policy (objects, positional args, formats, claims requirements, ` +
        `one $ref schema file); medians of ${sizes.runs} runs. No target: reported for CI budgets.`,
    );
  });
  return report;
}

/** Milliseconds from spawning `node args...` to its exit; rejects unless it exits 0. */
export function timeProcess(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const begin = performance.now();
    const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("exit", (code) => {
      const elapsed = performance.now() - begin;
      if (code === 0) resolve(elapsed);
      else reject(new Error(`node ${args.join(" ")} exited ${code}: ${stderr.slice(0, 500)}`));
    });
  });
}
