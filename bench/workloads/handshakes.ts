/**
 * Workload 2, handshakes: connections per second that complete the namespace connect (engine.io
 * handshake over WebSocket, then `/chat` admitted), each closed once admitted. Variants, each its
 * own server process: plain Socket.IO, and sockguard with the bench policy trusting an ES256, an
 * RS256 or an HS256 issuer. One load-generator process keeps a fixed number of connects in flight
 * against one variant at a time; the variants alternate in rotating order.
 */
import type { HandshakeResult } from "../client/client-main.js";
import { createIssuerKey, type BenchAlgorithm } from "../fixtures/issuer-keys.js";
import { guardedPolicy, withTempDir, writePolicyFiles } from "../fixtures/policies.js";
import { BENCH_NAMESPACE, BENCH_ORIGIN } from "../fixtures/scenario.js";
import { CLIENT_ENTRY, HelperProcess, SERVER_ENTRY, stopAll } from "../processes/child-process.js";
import { checkTarget, workloadReport, type WorkloadReport } from "../results.js";
import { benchHandwrittenConfig } from "../server/handwritten-guard.js";
import type { ServerVariant } from "../server/server-main.js";
import type { BenchSizes } from "../sizes.js";
import { median, pairedRatio, rotation } from "../stats.js";

const ALGORITHMS: readonly BenchAlgorithm[] = ["ES256", "RS256", "HS256"];

/** One measured window: what the load generator saw, and the CPU time the server spent meanwhile. */
interface Window extends HandshakeResult {
  readonly serverCpuMicros: number;
}

interface Variant {
  readonly name: string;
  readonly server: ServerVariant;
  readonly token?: string;
}

export async function runHandshakes(sizes: BenchSizes["handshakes"]): Promise<WorkloadReport> {
  const report = workloadReport("Handshakes");
  await withTempDir(async (dir) => {
    const variants: Variant[] = [{ name: "plain", server: { kind: "plain" } }];
    for (const alg of ALGORITHMS) {
      const key = await createIssuerKey(alg);
      const token = await key.signUserToken("bench-user");
      const policyPath = await writePolicyFiles(`${dir}/${alg}`, guardedPolicy(key.verification));
      variants.push({ name: `sockguard ${alg}`, server: { kind: "sockguard", policyPath }, token });
      if (alg === "ES256") {
        const config = benchHandwrittenConfig(key.verification);
        variants.push({ name: "hand-written ES256", server: { kind: "handwritten", config }, token });
      }
    }
    const helpers: HelperProcess[] = [];
    try {
      const servers = await Promise.all(variants.map(() => HelperProcess.start(SERVER_ENTRY)));
      helpers.push(...servers);
      const client = await HelperProcess.start(CLIENT_ENTRY);
      helpers.push(client);
      const urls = await Promise.all(
        variants.map((variant, i) => servers[i]!.call<{ url: string }>("start", variant.server)),
      );
      const window = async (variant: Variant, durationMs: number): Promise<Window> => {
        const server = servers[variants.indexOf(variant)]!;
        const { url } = urls[variants.indexOf(variant)]!;
        const cpuBefore = await server.call<number>("cpuMicros", null);
        const result = await client.call<HandshakeResult>("handshakes", {
          target: {
            url,
            namespace: BENCH_NAMESPACE,
            origin: BENCH_ORIGIN,
            ...(variant.token === undefined ? {} : { token: variant.token }),
          },
          durationMs,
          concurrency: sizes.concurrency,
          maxHandshakes: sizes.maxPerWindow,
        });
        const cpuAfter = await server.call<number>("cpuMicros", null);
        return { ...result, serverCpuMicros: cpuAfter - cpuBefore };
      };
      for (const variant of variants) await window(variant, sizes.warmupMs);
      const rounds = new Map<Variant, Window[]>(variants.map((v) => [v, []]));
      for (let round = 0; round < sizes.rounds; round++) {
        for (const variant of rotation(variants, round))
          rounds.get(variant)!.push(await window(variant, sizes.windowMs));
      }
      summarise(report, variants, rounds, sizes);
    } finally {
      await stopAll(helpers);
    }
  });
  return report;
}

function summarise(
  report: WorkloadReport,
  variants: readonly Variant[],
  rounds: Map<Variant, Window[]>,
  sizes: BenchSizes["handshakes"],
): void {
  const rate = reportConnectRates(
    report,
    variants.map((variant) => ({
      name: variant.name,
      windows: rounds.get(variant)!.map((r) => ({ ...r, admitted: r.completed })),
    })),
  );
  checkTarget(
    report,
    "handshakes, sockguard ES256 ÷ plain",
    pairedRatio(rate.get("sockguard ES256")!, rate.get("plain")!),
    ">=",
    0.8,
    "×",
  );
  report.notes.push(
    `${sizes.concurrency} connects in flight over WebSocket, each closed once admitted to ${BENCH_NAMESPACE}; ` +
      `${sizes.rounds} rounds of back-to-back windows in rotating order; values are medians over windows, ratios ` +
      "the median of per-round ratios. Every connect presents the same token: sockguard verifies it once and then " +
      "answers from its token cache, the hand-written guard verifies it every time (see the unique-token workload).",
  );
}

/** One measured window of a connect workload. */
export interface ConnectWindow {
  readonly admitted: number;
  readonly failed: number;
  readonly firstFailure?: string;
  readonly elapsedMs: number;
  readonly serverCpuMicros: number;
}

/**
 * The two rows a connect workload reports per variant, connects per second and server CPU per
 * connect, each against plain's (the variant named `plain`) as the median of per-round ratios, and
 * a note for a variant whose connects failed. Returns the per-window rates by variant.
 *
 * @example
 * const rates = reportConnectRates(report, [{ name: "plain", windows }, { name: "sockguard ES256", windows: guarded }]);
 */
export function reportConnectRates(
  report: WorkloadReport,
  variants: readonly { readonly name: string; readonly windows: readonly ConnectWindow[] }[],
): ReadonlyMap<string, number[]> {
  const rate = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  for (const { name, windows } of variants) {
    const failed = windows.reduce((sum, w) => sum + w.failed, 0);
    if (failed > 0) {
      const reason = windows.find((w) => w.firstFailure)?.firstFailure;
      report.notes.push(`${name}: ${failed} connect(s) failed (first: ${reason})`);
    }
    rate.set(
      name,
      windows.map((w) => (w.admitted / Math.max(w.elapsedMs, 1)) * 1000),
    );
    cpu.set(
      name,
      windows.map((w) => w.serverCpuMicros / Math.max(w.admitted, 1)),
    );
  }
  for (const { name } of variants) {
    const vsPlain = (figures: ReadonlyMap<string, number[]>) =>
      name === "plain" ? {} : { vsPlain: pairedRatio(figures.get(name)!, figures.get("plain")!) };
    report.measurements.push(
      {
        variant: name,
        metric: "connects completed",
        value: median(rate.get(name)!),
        unit: "/s",
        ...vsPlain(rate),
        samples: rate.get(name)!,
      },
      {
        variant: name,
        metric: "server CPU per connect",
        value: median(cpu.get(name)!),
        unit: "µs",
        ...vsPlain(cpu),
        samples: cpu.get(name)!,
      },
    );
  }
  return rate;
}
