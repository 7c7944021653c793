/**
 * `npm run fuzz -- --seconds N --seed S`: the property harnesses of test/property/ for as long as
 * they are given, round after round from consecutive seeds, holding the loader to its 2 s promise.
 * Prints the inputs tried, the failures with the seed that reruns each, and the longest loader
 * answer; exits 1 on any failure. A long run also prints a progress line every `--progress`
 * seconds (300 by default) to stderr.
 */
import fc from "fast-check";
import { parseArgs } from "node:util";
import { loaderCase } from "../test/property/harness/policy-mutations.js";
import { caseDirectory, checkLoaderCase, LOADER_ANSWER_MS } from "../test/property/harness/loader-check.js";
import { sendBatch, startWireTarget, wireBatch } from "../test/property/harness/wire.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    seed: { type: "string" },
    progress: { type: "string", default: "300" },
  },
});
const seconds = Number(values.seconds);
let seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
const started = Date.now();
const deadline = started + seconds * 1000;
const progressMs = Number(values.progress) * 1000;
let nextProgress = started + progressMs;
const ROUND = 200;

process.stderr.write(
  `fuzz: ${seconds} s from seed ${seed} (rounds of ${ROUND} policies and ${ROUND / 4} batches)\n`,
);
const directory = await caseDirectory();
const target = await startWireTarget();
const counts = { loader: 0, wire: 0, frames: 0 };
const failures: string[] = [];
let longestMs = 0;

try {
  while (Date.now() < deadline) {
    const loader = await fc.check(
      fc.asyncProperty(loaderCase, async (input) => {
        counts.loader += 1;
        const outcome = await checkLoaderCase(input, directory.dir, LOADER_ANSWER_MS);
        longestMs = Math.max(longestMs, outcome.ms);
      }),
      { seed, numRuns: ROUND },
    );
    if (loader.failed) failures.push(`loader seed ${seed}: ${String(loader.errorInstance)}`);
    const wire = await fc.check(
      fc.asyncProperty(wireBatch, async (batch) => {
        counts.wire += 1;
        counts.frames += batch.frames.length;
        await sendBatch(target.url, batch);
        await target.legitimateAnswered();
        if (target.violations.length > 0)
          throw new Error(`reached a handler: ${target.violations.join("; ")}`);
      }),
      { seed, numRuns: ROUND / 4 },
    );
    if (wire.failed) failures.push(`wire seed ${seed}: ${String(wire.errorInstance)}`);
    if (Date.now() >= nextProgress) {
      nextProgress += progressMs;
      process.stderr.write(
        `fuzz: ${Math.round((Date.now() - started) / 1000)} s, seeds up to ${seed}: ` +
          `${counts.loader} policies, ${counts.wire} batches (${counts.frames} frames), ` +
          `longest loader answer ${Math.round(longestMs)} ms, ${failures.length} failure(s)\n`,
      );
    }
    seed += 1;
  }
} finally {
  await target.close();
  await directory.remove();
}

console.log(
  `fuzzed ${counts.loader} policies and ${counts.wire} wire batches (${counts.frames} frames) in ${seconds} s; ` +
    `longest loader answer ${Math.round(longestMs)} ms; ${failures.length} failure(s)`,
);
for (const failure of failures)
  console.log(`  ${failure}\n  rerun: SOCKGUARD_PROPERTY_SEED=<seed> npx mocha test/property/`);
process.exitCode = failures.length > 0 ? 1 : 0;
