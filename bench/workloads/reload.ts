/**
 * Workload 4a, live reload: how long from writing the policy file to the new policy being in force,
 * through the real watcher (`sockguard(io, { policy })` watches by default), its debounce and
 * settle wait, the loader and the compiler. Each edit rewrites the file in place with one changed
 * limit and waits for the guard's `reload` event carrying the new version; the guard emits it
 * right after the swap, so the new policy already decides the next event.
 */
import { writeFile } from "node:fs/promises";
import { once } from "node:events";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Server } from "socket.io";
import { createCompileContext } from "../../src/compile/auth.js";
import { compilePolicy } from "../../src/compile/compile.js";
import { loadPolicy, sockguard, type Guard, type ReloadEvent } from "../../src/index.js";
import { createIssuerKey } from "../fixtures/issuer-keys.js";
import { guardedPolicy, policyYaml, withTempDir, writePolicyFiles } from "../fixtures/policies.js";
import { checkTarget, workloadReport, type WorkloadReport } from "../results.js";
import type { BenchSizes } from "../sizes.js";
import { median, percentile } from "../stats.js";

/** A typical application's policy: the bench event and a few more. */
const POLICY_EVENTS = 8;
/** Longest wait for one edit to be in force before the workload gives up. */
const EDIT_TIMEOUT_MS = 10_000;
/** Quiet time between edits, so one edit's confirming reads never overlap the next write. */
const PAUSE_BETWEEN_EDITS_MS = 50;

export async function runReload(sizes: BenchSizes["reload"]): Promise<WorkloadReport> {
  const report = workloadReport("Reload");
  const key = await createIssuerKey("HS256");
  const revision = (n: number): string =>
    policyYaml(guardedPolicy(key.verification, { extraEvents: POLICY_EVENTS - 1, revision: n }));
  await withTempDir(async (dir) => {
    const path = await writePolicyFiles(
      dir,
      guardedPolicy(key.verification, { extraEvents: POLICY_EVENTS - 1, revision: 0 }),
    );
    // Never attached to an HTTP server: reloading needs no network, and there is nothing to close.
    const io = new Server();
    let guard: Guard | undefined;
    try {
      guard = await sockguard(io, { policy: path, logger: silentLogger });
      const latencies: number[] = [];
      for (let edit = 1; edit <= sizes.edits; edit++) {
        const previous = guard.version;
        const inForce = waitForNewVersion(guard, previous);
        const begin = performance.now();
        await writeFile(path, revision(edit));
        await inForce;
        latencies.push(performance.now() - begin);
        await sleep(PAUSE_BETWEEN_EDITS_MS);
      }
      const loadAndCompile = await timeLoadAndCompile(path, sizes.edits);
      report.measurements.push(
        { variant: "sockguard", metric: "write → in force, p50", value: median(latencies), unit: "ms" },
        {
          variant: "sockguard",
          metric: "write → in force, p99",
          value: percentile(latencies, 99),
          unit: "ms",
        },
        { variant: "sockguard", metric: "write → in force, max", value: Math.max(...latencies), unit: "ms" },
        {
          variant: "sockguard",
          metric: "of which read + check + compile (median)",
          value: median(loadAndCompile),
          unit: "ms",
        },
      );
      checkTarget(report, "reload p99, write → in force", percentile(latencies, 99), "<", 150, "ms");
      report.notes.push(
        `${sizes.edits} in-place edits of a ${POLICY_EVENTS}-event policy (plus its $ref schema file), each waited ` +
          "for until the guard's reload event; the watcher's default quiet period (60 ms, with its settle look " +
          "half-way through it) is included.",
      );
    } finally {
      await guard?.close();
    }
  });
  return report;
}

/** The loader and the compiler alone on the same policy, without the watcher's waits. */
async function timeLoadAndCompile(path: string, runs: number): Promise<number[]> {
  const context = createCompileContext();
  const times: number[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      const begin = performance.now();
      compilePolicy(await loadPolicy(path), context);
      times.push(performance.now() - begin);
    }
  } finally {
    context.remoteKeySets.close();
  }
  return times;
}

async function waitForNewVersion(guard: Guard, previous: string): Promise<void> {
  const timeout = AbortSignal.timeout(EDIT_TIMEOUT_MS);
  for (;;) {
    const [event] = (await once(guard, "reload", { signal: timeout })) as [ReloadEvent];
    if (event.version !== previous) return;
  }
}

const silentLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
