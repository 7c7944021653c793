/**
 * Workload 8, tokens at connect: `sockets` clients arrive, each with a token of its own (every
 * connect a new token, so nothing can be cached), and stay connected; then every one of them drops
 * and reconnects at once with the token it had, as after a network blip (a reconnect storm). Two
 * reports: "Handshakes, unique tokens" (the arrival) and "Reconnect storm" (the return), in
 * connects per second and server CPU per connect. Variants, each its own server process: plain
 * Socket.IO, and sockguard and the hand-written jose guard, each with an ES256 and an RS256
 * issuer, and sockguard ES256 with its token cache off. The variants alternate in rotating order; every round signs fresh tokens.
 *
 * sockguard runs with a `tokenCache` the whole fleet fits in (the default, 100 tokens and 1 MiB
 * per issuer, holds only the last ones verified; a storm cycling through more misses every time). After a deploy the new process
 * starts with an empty cache: the storm here is the blip, not the deploy.
 */
import type { ConnectTokensResult } from "../client/client-main.js";
import { createIssuerKey, type BenchAlgorithm, type IssuerKey } from "../fixtures/issuer-keys.js";
import { guardedPolicy, withTempDir, writePolicyFiles } from "../fixtures/policies.js";
import { BENCH_NAMESPACE, BENCH_ORIGIN } from "../fixtures/scenario.js";
import { CLIENT_ENTRY, HelperProcess, SERVER_ENTRY, stopAll } from "../processes/child-process.js";
import { checkTarget, workloadReport, type WorkloadReport } from "../results.js";
import { benchHandwrittenConfig } from "../server/handwritten-guard.js";
import type { ServerVariant } from "../server/server-main.js";
import type { BenchSizes } from "../sizes.js";
import { pairedRatio, rotation } from "../stats.js";
import { reportConnectRates } from "./handshakes.js";

const ALGORITHMS: readonly BenchAlgorithm[] = ["ES256", "RS256"];
/** Lets the server finish closing the dropped connections before the storm starts. */
const SETTLE_MS = 200;

interface Variant {
  readonly name: string;
  readonly server: ServerVariant;
  /** Whose tokens it is sent (plain ignores them). */
  readonly alg: BenchAlgorithm;
}

/** One phase of one round: the client's view and the server's CPU meanwhile. */
interface Phase extends ConnectTokensResult {
  readonly serverCpuMicros: number;
}

export async function runReconnects(sizes: BenchSizes["reconnects"]): Promise<WorkloadReport[]> {
  const unique = workloadReport("Handshakes, unique tokens");
  const storm = workloadReport("Reconnect storm");
  await withTempDir(async (dir) => {
    const keys = new Map<BenchAlgorithm, IssuerKey>();
    const variants: Variant[] = [{ name: "plain", server: { kind: "plain" }, alg: "ES256" }];
    for (const alg of ALGORITHMS) {
      const key = await createIssuerKey(alg);
      keys.set(alg, key);
      const policyPath = await writePolicyFiles(`${dir}/${alg}`, guardedPolicy(key.verification));
      // Room for the whole fleet: entries, and bytes (a token counts twice its length plus 256).
      const tokenCache = {
        maxEntries: Math.max(100, sizes.sockets),
        maxBytes: Math.max(1, sizes.sockets) * 4096,
      };
      variants.push(
        { name: `sockguard ${alg}`, server: { kind: "sockguard", policyPath, tokenCache }, alg },
        // The same guard verifying every token: what the cache saves, measured in the same run.
        ...(alg === "ES256"
          ? [
              {
                name: `sockguard ${alg}, tokenCache: false`,
                server: { kind: "sockguard", policyPath, tokenCache: false } as const,
                alg,
              },
            ]
          : []),
        {
          name: `hand-written ${alg}`,
          server: { kind: "handwritten", config: benchHandwrittenConfig(key.verification) },
          alg,
        },
      );
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
      const phase = async (index: number, tokens: readonly string[]): Promise<Phase> => {
        const cpuBefore = await servers[index]!.call<number>("cpuMicros", null);
        const result = await client.call<ConnectTokensResult>("connectTokens", {
          group: variants[index]!.name,
          target: { url: urls[index]!.url, namespace: BENCH_NAMESPACE, origin: BENCH_ORIGIN },
          tokens,
          concurrency: sizes.concurrency,
        });
        const cpuAfter = await servers[index]!.call<number>("cpuMicros", null);
        return { ...result, serverCpuMicros: cpuAfter - cpuBefore };
      };
      const arrivals = new Map<Variant, Phase[]>(variants.map((v) => [v, []]));
      const returns = new Map<Variant, Phase[]>(variants.map((v) => [v, []]));
      // Round 0 warms every server up and is not reported.
      for (let round = 0; round <= sizes.rounds; round++) {
        const tokens = new Map<BenchAlgorithm, string[]>();
        for (const [alg, key] of keys) {
          tokens.set(
            alg,
            await Promise.all(
              Array.from({ length: sizes.sockets }, (_, i) => key.signUserToken(`user-${round}-${i}`)),
            ),
          );
        }
        for (const variant of rotation(variants, round)) {
          const index = variants.indexOf(variant);
          const own = tokens.get(variant.alg)!;
          const arrived = await phase(index, own);
          await client.call("disconnect", { group: variant.name });
          await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
          const returned = await phase(index, own);
          await client.call("disconnect", { group: variant.name });
          if (round > 0) {
            arrivals.get(variant)!.push(arrived);
            returns.get(variant)!.push(returned);
          }
        }
      }
      summarise(unique, variants, arrivals);
      summarise(storm, variants, returns);
    } finally {
      await stopAll(helpers);
    }
  });
  checkTarget(
    storm,
    "reconnect storm, sockguard ES256 ÷ plain",
    ratioOf(storm, "sockguard ES256"),
    ">=",
    0.9,
    "×",
  );
  checkTarget(
    unique,
    "unique tokens, sockguard ES256 ÷ hand-written",
    ratioOf(unique, "sockguard ES256", "hand-written ES256"),
    ">=",
    1,
    "×",
  );
  const common =
    `${sizes.sockets} WebSocket clients, ${sizes.concurrency} connects in flight; ${sizes.rounds} rounds ` +
    "(after one to warm up) in rotating order, fresh tokens each round; medians over rounds, ratios the median of per-round ratios.";
  unique.notes.push(`${common} Each client presents a token never seen before and stays connected.`);
  storm.notes.push(
    `${common} The same clients drop and reconnect at once with the tokens they had; sockguard's token ` +
      `cache holds ${Math.max(100, sizes.sockets)} tokens per issuer here (the default, 100 tokens and 1 MiB, ` +
      "would hold only the last ones verified).",
  );
  return [unique, storm];
}

/** Rates per round by variant, kept on the report for the targets. */
const ratesOf = new WeakMap<WorkloadReport, ReadonlyMap<string, number[]>>();

function summarise(
  report: WorkloadReport,
  variants: readonly Variant[],
  phases: Map<Variant, Phase[]>,
): void {
  const rates = reportConnectRates(
    report,
    variants.map((variant) => ({
      name: variant.name,
      windows: phases.get(variant)!.map((p) => ({ ...p, admitted: p.connected })),
    })),
  );
  ratesOf.set(report, rates);
}

function ratioOf(report: WorkloadReport, variant: string, base = "plain"): number {
  const rates = ratesOf.get(report)!;
  return pairedRatio(rates.get(variant)!, rates.get(base)!);
}
