/**
 * The cost of a shadow candidate (`sockguard(io, { shadow })`) per event: packets handed to a real
 * server-side socket's engine connection (no network) on in-process servers, plain, guarded, and
 * guarded with a candidate policy (a copy of the policy in force, at its own path) judged beside
 * it, in alternating batches, each batch timed until the handler has seen all of it. Both guarded
 * servers log denials (to a silent logger), so the candidate really judges every event: without
 * anybody listening for decisions it would skip its work.
 */
import type { Logger } from "../../src/enforce/context.js";
import { injectBatches, startInProcessServer, type InProcessServer } from "../fixtures/in-process-server.js";
import { createIssuerKey } from "../fixtures/issuer-keys.js";
import { guardedPolicy, withTempDir, writePolicyFiles } from "../fixtures/policies.js";
import { BENCH_EVENT, BENCH_NAMESPACE, MESSAGE } from "../fixtures/scenario.js";
import { workloadReport, type WorkloadReport } from "../results.js";
import type { BenchSizes } from "../sizes.js";
import { median, rotation } from "../stats.js";

type Sizes = BenchSizes["decision"];

const BATCH = 64;
const SILENT: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export async function runShadow(sizes: Sizes): Promise<WorkloadReport> {
  const report = workloadReport("Shadow policy");
  const key = await createIssuerKey("ES256");
  const token = await key.signUserToken("bench-user");
  await withTempDir(async (dir) => {
    const policy = guardedPolicy(key.verification, { maxDenials: "1000000000/1s" });
    const inForce = await writePolicyFiles(`${dir}/in-force`, policy);
    const candidate = await writePolicyFiles(`${dir}/candidate`, policy);
    const packet = `2${BENCH_NAMESPACE},${JSON.stringify([BENCH_EVENT, MESSAGE])}`;
    const batches = Math.max(1, Math.round(sizes.socketBatch / BATCH));
    const observe = { logDecisions: "denials", logger: SILENT } as const;
    const servers: InProcessServer[] = [];
    try {
      servers.push(await startInProcessServer("plain", undefined, token));
      servers.push(await startInProcessServer("sockguard", inForce, token, observe));
      servers.push(
        await startInProcessServer("sockguard, shadow candidate", inForce, token, {
          ...observe,
          shadow: candidate,
        }),
      );
      const perRound = new Map<string, number[]>(servers.map((server) => [server.name, []]));
      for (const server of servers) await injectBatches(server, packet, 1, BATCH);
      for (let round = 0; round < sizes.socketRounds; round++) {
        for (const server of rotation(servers, round))
          perRound.get(server.name)!.push(await injectBatches(server, packet, batches, BATCH));
      }
      const plainNs = median(perRound.get("plain")!);
      for (const server of servers) {
        const value = median(perRound.get(server.name)!);
        report.measurements.push({
          variant: `Socket.IO path: ${server.name}`,
          metric: "time per event",
          value,
          unit: "ns",
          ...(server.name === "plain" ? {} : { vsPlain: value / plainNs }),
        });
      }
      report.measurements.push({
        variant: "Socket.IO path: sockguard, shadow candidate",
        metric: "added by the candidate",
        value: median(perRound.get("sockguard, shadow candidate")!) - median(perRound.get("sockguard")!),
        unit: "ns",
      });
      report.notes.push(
        `Median of ${sizes.socketRounds} alternating rounds of ${batches} batches of ${BATCH} events, ` +
          "each batch timed until the handler saw all of it; the candidate is the same policy, so it judges " +
          "every event in full and reports nothing.",
      );
    } finally {
      for (const server of servers) await server.close();
    }
  });
  return report;
}
