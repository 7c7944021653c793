/**
 * `npm run soak -- --seconds 300 --clients 2000`: a guarded server in a child process (started
 * with --expose-gc) under steady load from this process's socket.io-client sockets, while its
 * policy file is rewritten every 2 s (every fifth rewrite broken), 10% of the clients are replaced
 * every 10 s, and tokens expire and are renewed in-band. Prints a row every --row-seconds and at the
 * end; exits 1 on any valid event refused, invalid event admitted, unanswered event, unexpected
 * disconnect, server crash, or heap growth after warm-up above --max-heap-slope MB a minute.
 *
 * Options: --seconds N (300), --clients N (2000), --row-seconds N (60), --seed S, --redis (a real
 * redis-server as the guard's store), --budgets (a generous event rate limit in the policy),
 * --policy FILE (another base policy, e.g. one that should make the soak fail), --interval-ms N
 * (5000, between two events of one client), --token-seconds N (45), --warmup-seconds N (half the
 * run, at most 180), --max-heap-slope MB (0.1: a leak of 0.2 MB a minute fails).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { startRedisServer, type RedisServer } from "../test/helpers/redis-server.js";
import { HelperProcess } from "./processes/child-process.js";
import { SoakFleet } from "./soak/soak-clients.js";
import { seededRandom } from "./soak/soak-events.js";
import { policyRewrite, SOAK_ISSUER, soakPolicy } from "./soak/soak-policy.js";
import { header, heapTrend, row, type HeapPoint } from "./soak/soak-report.js";
import type { ServerSample, StartArgs } from "./soak/soak-server.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "300" },
    clients: { type: "string", default: "2000" },
    "row-seconds": { type: "string", default: "60" },
    seed: { type: "string" },
    redis: { type: "boolean", default: false },
    budgets: { type: "boolean", default: false },
    policy: { type: "string" },
    "interval-ms": { type: "string", default: "5000" },
    "token-seconds": { type: "string", default: "45" },
    "warmup-seconds": { type: "string" },
    "max-heap-slope": { type: "string", default: "0.1" },
  },
});

const seconds = Number(values.seconds);
const clients = Number(values.clients);
const rowSeconds = Number(values["row-seconds"]);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
// Under load the heap after GC still levels off for about three minutes (the slope measured from a
// later start keeps falling: 0.27, 0.12, 0.08, 0.04 MB/min from 60, 120, 150, 170 s in a 5-minute
// run), so the trend is judged over the second half of the run, from 180 s at most.
const warmupSeconds = Number(values["warmup-seconds"] ?? Math.min(180, seconds * 0.5));
const maxHeapSlope = Number(values["max-heap-slope"]);
const REWRITE_MS = 2_000;
const CHURN_MS = 10_000;
const CHURN_SHARE = 0.1;
/** Heap samples for the slope: every 10 s (or every row, when rows come faster). */
const sampleMs = Math.min(10, rowSeconds) * 1000;
/** The trend needs this many samples after warm-up, over at least a minute. */
const TREND_MIN_POINTS = 6;

const random = seededRandom(seed);
/** The HS256 secret of the soak's issuer: the server's policy reads it from the environment. */
const secret = randomBytes(36).toString("base64url");
const dir = await mkdtemp(join(tmpdir(), "sockguard-soak-"));
const policyFile = join(dir, "policy.yaml");
const base = values.policy
  ? await readFile(values.policy, "utf8")
  : soakPolicy({ budgets: values.budgets === true });
await writeFile(policyFile, base);

console.log(
  `soak: ${clients} clients for ${seconds} s, seed ${seed}${values.redis ? ", Redis store" : ""}` +
    `${values.budgets ? ", budgets" : ""}${values.policy ? `, policy ${values.policy}` : ""}`,
);
console.log(
  `rerun: npm run soak -- ${process.argv.slice(2).join(" ")}${values.seed ? "" : ` --seed ${seed}`}`,
);

let redis: RedisServer | undefined;
let server: HelperProcess | undefined;
let fleet: SoakFleet | undefined;
let crashed: string | undefined;
let stopping = false;
const failures: string[] = [];
const heapPoints: HeapPoint[] = [];
const rewrites = { valid: 0, broken: 0 };
let lastSample: ServerSample | undefined;

try {
  if (values.redis) redis = await startRedisServer();
  server = await HelperProcess.start(new URL("./soak/soak-server.ts", import.meta.url), {
    nodeFlags: ["--expose-gc"],
    env: { [SOAK_ISSUER.secretVariable]: secret },
  });
  void server.exited.then(({ code, signal }) => {
    if (!stopping) crashed = `the server exited during the soak (code ${code}, signal ${signal})`;
  });
  const startArgs: StartArgs = { policyFile, ...(redis ? { redisUrl: redis.url } : {}) };
  const { url } = await server.call<{ url: string }>("start", startArgs);

  fleet = new SoakFleet({
    url,
    secret,
    clients,
    intervalMs: Number(values["interval-ms"]),
    tokenSeconds: Number(values["token-seconds"]),
    random,
  });
  const rampStart = Date.now();
  await fleet.fill();
  console.log(`${fleet.live} clients connected in ${((Date.now() - rampStart) / 1000).toFixed(1)} s`);
  console.log(header());
  await runLoad(server, fleet);
} catch (error) {
  failures.push(`the soak could not run: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  stopping = true;
  await fleet?.close();
  if (server) {
    const closed = await server.call<{ active: string[] }>("close", null).catch(() => undefined);
    if (closed) console.log(`server closed; still active in it: ${closed.active.join(", ") || "nothing"}`);
    await server.stop();
  }
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
}

judge();
process.exitCode = failures.length > 0 ? 1 : 0;

async function runLoad(server: HelperProcess, fleet: SoakFleet): Promise<void> {
  const started = Date.now();
  const elapsed = (): number => (Date.now() - started) / 1000;
  let rewrite = 0;
  let nextRowAt = rowSeconds;
  let sampling = false;
  const takeSample = async (final: boolean): Promise<void> => {
    sampling = true;
    try {
      const sample = await server.call<ServerSample>("sample", null);
      lastSample = sample;
      const at = elapsed();
      heapPoints.push({ seconds: at, bytes: sample.heapAfterGcBytes });
      if (final || at >= nextRowAt) {
        console.log(row(at, fleet.live, fleet.counters, fleet.takeLatencies(), sample));
        while (nextRowAt <= at) nextRowAt += rowSeconds;
      }
    } finally {
      sampling = false;
    }
  };
  fleet.start();
  const timers = [
    setInterval(() => {
      rewrite += 1;
      void writePolicy(rewrite);
    }, REWRITE_MS),
    setInterval(() => fleet.churn(CHURN_SHARE), CHURN_MS),
  ];
  // Samples fall between two churns, once the replaced clients are back.
  const firstSample = setTimeout(
    () => {
      void takeSample(false).catch(() => undefined);
      timers.push(
        setInterval(() => {
          if (!sampling) void takeSample(false).catch(() => undefined);
        }, sampleMs),
      );
    },
    Math.min(sampleMs, CHURN_MS) * 0.7,
  );
  while (elapsed() < seconds && crashed === undefined) await sleep(200);
  clearTimeout(firstSample);
  for (const timer of timers) clearInterval(timer);
  await fleet.drain(10_000);
  while (sampling) await sleep(20);
  if (crashed === undefined) await takeSample(true);
}

async function writePolicy(n: number): Promise<void> {
  const { text, broken } = policyRewrite(base, n);
  if (broken) rewrites.broken += 1;
  else rewrites.valid += 1;
  // Half in place, half as editors save (a new file renamed over the old one).
  if (n % 2 === 0) {
    await writeFile(policyFile, text);
  } else {
    const next = join(dir, `.policy.yaml.${n}`);
    await writeFile(next, text);
    await rename(next, policyFile);
  }
}

function judge(): void {
  const counters = fleet?.counters;
  if (crashed !== undefined) failures.push(crashed);
  if (counters) {
    if (counters.validRefused > 0) failures.push(`${counters.validRefused} valid events or renewals refused`);
    if (counters.invalidAdmitted > 0)
      failures.push(`${counters.invalidAdmitted} invalid events acknowledged "ok"`);
    if (counters.unanswered > 0) failures.push(`${counters.unanswered} events unanswered`);
    if (counters.connectRefused > 0) failures.push(`${counters.connectRefused} connects refused`);
    if (counters.unexpectedDisconnects > 0)
      failures.push(`${counters.unexpectedDisconnects} clients disconnected unexpectedly`);
    if (counters.sent === 0) failures.push("no event was sent");
  }
  if (lastSample) {
    if (lastSample.violations > 0)
      failures.push(
        `${lastSample.violations} events reached a handler that broke the policy: ${lastSample.violationExamples.join("; ")}`,
      );
    if (rewrites.valid >= 3 && lastSample.reloads === 0) failures.push("no policy rewrite was put in force");
    console.log(
      `policy rewrites: ${rewrites.valid} valid, ${rewrites.broken} broken; the guard applied ${lastSample.reloads}, refused ${lastSample.reloadsFailed}`,
    );
    console.log(`guard denials by code: ${JSON.stringify(lastSample.denials)}`);
  }
  for (const [problem, count] of fleet?.problems ?? []) console.log(`  ${count} × ${problem}`);

  const series = heapPoints.map(
    (point) => `${(point.bytes / 2 ** 20).toFixed(1)}@${Math.round(point.seconds)}s`,
  );
  console.log(`heap after GC (MB@time): ${series.join(" ")}`);
  const trend = heapTrend(heapPoints.filter((point) => point.seconds >= warmupSeconds));
  if (!trend || trend.points < TREND_MIN_POINTS || trend.spanSeconds < 60) {
    console.log(
      `heap after GC: not judged (needs ${TREND_MIN_POINTS} samples over at least 60 s after the ${warmupSeconds} s warm-up)`,
    );
  } else {
    const verdict = trend.mbPerMinute > maxHeapSlope ? "GROWING" : "flat";
    console.log(
      `heap after GC after warm-up: ${trend.mbPerMinute.toFixed(3)} MB/min (r = ${trend.r.toFixed(2)}, ${trend.points} samples over ${Math.round(trend.spanSeconds)} s), limit ${maxHeapSlope} MB/min: ${verdict}`,
    );
    if (trend.mbPerMinute > maxHeapSlope)
      failures.push(
        `the heap grew ${trend.mbPerMinute.toFixed(3)} MB/min after warm-up (limit ${maxHeapSlope})`,
      );
  }
  if (failures.length === 0) console.log("verdict: pass");
  else for (const failure of failures) console.log(`verdict: FAIL: ${failure}`);
}
