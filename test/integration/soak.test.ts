/**
 * A tiny `npm run soak`: the real harness (bench/soak.ts, a guarded server in a child process and
 * real socket.io-client sockets) for a few seconds with 50 clients. It passes with the soak's own
 * policy, and fails, as it must, when fed a policy that refuses events its clients send as valid.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { soakPolicy } from "../../bench/soak/soak-policy.js";
import { Cleanup } from "../helpers/cleanup.js";
import { writePolicyFiles } from "../helpers/policy-files.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ROW = /^\s+\d+s(\s+[\d.]+){18}\s*$/;

interface SoakRun {
  readonly code: number | null;
  readonly output: string;
  readonly rows: number[][];
}

function runSoak(args: readonly string[]): Promise<SoakRun> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/soak.ts", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) =>
    child.once("exit", (code) => {
      const rows = output
        .split("\n")
        .filter((line) => ROW.test(line))
        .map((line) => line.trim().split(/\s+/).slice(1).map(Number));
      resolve({ code, output, rows });
    }),
  );
}

/** The columns of a row after its time (see bench/soak/soak-report.ts). */
const column = {
  sent: 1,
  acked: 2,
  refused: 3,
  validRefused: 4,
  reloads: 13,
  failed: 14,
  renew: 15,
  churn: 17,
};

describe("npm run soak, briefly", function () {
  this.timeout(90_000);
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("keeps every decision right through rewrites, churn and renewals, printing its rows", async () => {
    const run = await runSoak([
      ...["--seconds", "15", "--clients", "50", "--row-seconds", "5"],
      ...["--interval-ms", "1000", "--token-seconds", "10", "--seed", "192026"],
    ]);
    expect(run.code, run.output).to.equal(0);
    expect(run.output).to.include("verdict: pass");
    expect(run.rows.length, run.output).to.be.at.least(3);
    const last = run.rows.at(-1)!;
    expect(last[column.sent], "events sent").to.be.above(300);
    expect(last[column.acked]! + last[column.refused]!, "events answered").to.equal(last[column.sent]);
    expect(last[column.refused], "invalid events refused").to.be.above(0);
    expect(last[column.validRefused]).to.equal(0);
    expect(last[column.reloads], "rewrites put in force").to.be.above(0);
    expect(last[column.failed], "broken rewrites refused").to.be.above(0);
    expect(last[column.renew], "renewals").to.be.above(0);
    expect(last[column.churn], "clients replaced").to.be.above(0);
  });

  it("fails when the policy refuses events its clients send as valid", async () => {
    const strict = soakPolicy({ budgets: false }).replace("maxLength: 64", "maxLength: 4");
    expect(strict).to.include("maxLength: 4");
    const dir = await writePolicyFiles(cleanup, { "strict.yaml": strict });
    const run = await runSoak([
      ...["--seconds", "4", "--clients", "20", "--row-seconds", "2"],
      ...["--interval-ms", "500", "--seed", "192026", "--policy", join(dir, "strict.yaml")],
    ]);
    expect(run.code, run.output).to.equal(1);
    expect(run.output).to.match(/verdict: FAIL: \d+ valid events or renewals refused/);
    expect(run.output).to.include("valid note refused: payload_invalid");
  });
});
