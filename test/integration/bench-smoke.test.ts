import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { runBenchmarks, WORKLOADS } from "../../bench/bench.js";
import { renderMarkdown, type BenchResults } from "../../bench/results.js";
import { SMOKE_SIZES } from "../../bench/sizes.js";
import { BUILT_CLI } from "../../bench/workloads/validate.js";

/** Every report a full run produces, in order. */
const EXPECTED_REPORTS = WORKLOADS.flatMap((workload) => workload.titles);

describe("benchmarks (smoke: every workload at a tiny size)", function () {
  // Ten helper processes start under tsx and every workload runs once: this is the one slow test.
  this.timeout(180_000);

  let dir: string;
  let results: BenchResults;

  before(async () => {
    // The validate workload times the built CLI; `npm test` builds first, a lone run may not have.
    if (!existsSync(BUILT_CLI)) {
      await promisify(execFile)(process.execPath, [
        "node_modules/typescript/bin/tsc",
        "-p",
        "tsconfig.build.json",
      ]);
    }
    dir = await mkdtemp(join(tmpdir(), "sockguard-bench-smoke-"));
    results = await runBenchmarks({ sizes: SMOKE_SIZES, mode: "smoke", outPath: join(dir, "results.json") });
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("runs every workload without an error", () => {
    assert.deepEqual(
      results.workloads.map((workload) => workload.workload),
      EXPECTED_REPORTS,
    );
    for (const workload of results.workloads) assert.equal(workload.error, undefined, workload.workload);
  });

  it("reports a finite number for every measurement and every target", () => {
    for (const workload of results.workloads) {
      assert.ok(workload.measurements.length > 0, `${workload.workload} measured nothing`);
      for (const m of workload.measurements) {
        assert.ok(Number.isFinite(m.value), `${workload.workload} / ${m.variant} / ${m.metric}: ${m.value}`);
        if (m.vsPlain !== undefined)
          assert.ok(Number.isFinite(m.vsPlain), `${m.variant} / ${m.metric} ratio`);
      }
      for (const t of workload.targets) assert.ok(Number.isFinite(t.measured), t.target);
    }
  });

  it("compares the variants each workload promises", () => {
    const variants = (name: string): Set<string> =>
      new Set(results.workloads.find((w) => w.workload === name)!.measurements.map((m) => m.variant));
    assert.deepEqual([...variants("Event throughput")], ["plain", "sockguard", "hand-written"]);
    assert.deepEqual(
      [...variants("Handshakes")],
      ["plain", "sockguard ES256", "hand-written ES256", "sockguard RS256", "sockguard HS256"],
    );
    const tokenVariants = [
      "plain",
      "sockguard ES256",
      "sockguard ES256, tokenCache: false",
      "hand-written ES256",
      "sockguard RS256",
      "hand-written RS256",
    ];
    assert.deepEqual([...variants("Handshakes, unique tokens")], tokenVariants);
    assert.deepEqual([...variants("Reconnect storm")], tokenVariants);
    assert.deepEqual([...variants("Memory")], ["plain", "sockguard"]);
    assert.deepEqual([...variants("Emits")], ["emits: off", "emits: warn", "warn ÷ off"]);
    assert.deepEqual(
      [...variants("Event budgets")],
      [
        "decision path: without a budget",
        "decision path: with a memory rate limit",
        "Socket.IO path: plain",
        "Socket.IO path: sockguard, no budget",
        "Socket.IO path: sockguard, memory rate limit",
      ],
    );
    const targets = results.workloads.flatMap((w) => w.targets.map((t) => t.target));
    assert.equal(targets.length, 15);
  });

  it("writes the JSON results and renders every workload and target in the Markdown table", async () => {
    const written = JSON.parse(await readFile(join(dir, "results.json"), "utf8")) as BenchResults;
    assert.deepEqual(written, JSON.parse(JSON.stringify(results)));
    const markdown = renderMarkdown(results);
    for (const name of EXPECTED_REPORTS)
      assert.match(markdown, new RegExp(`\\| ${name.replace(/[()]/g, "\\$&")} \\|`));
    assert.equal(markdown.match(/\| (PASS|\*\*MISS\*\*) \|/g)?.length, 15);
  });
});
