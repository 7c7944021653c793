import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { createCompileContext } from "../../../src/compile/auth.js";
import { compilePolicy } from "../../../src/compile/compile.js";
import type { CompiledPolicy } from "../../../src/compile/types.js";
import type { Decision } from "../../../src/decisions.js";
import type { LogFields, Logger } from "../../../src/enforce/context.js";
import { readableLine } from "../../../src/observe/console-logger.js";
import { DecisionLog, MAX_FIELD_LENGTH, safeText } from "../../../src/observe/decision-log.js";
import { createGuardObserver } from "../../../src/observe/observer.js";
import { checkPolicyObject } from "../../../src/policy/load.js";
import { delay } from "../../helpers/wait.js";

type Line = { level: string; fields: LogFields | string; message: string | undefined };

function collectingLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const at =
    (level: string) =>
    (fields: LogFields | string, message?: string): void =>
      void lines.push({ level, fields, message });
  return { lines, info: at("info"), warn: at("warn"), error: at("error") };
}

const DENIAL: Decision = {
  allowed: false,
  code: "payload_invalid",
  stage: "event",
  namespace: "/chat",
  event: "message",
  socketId: "s-1",
  policyVersion: "v1",
};

describe("observe: the guard observer", () => {
  const context = createCompileContext();
  after(() => context.remoteKeySets.close());
  let policy: CompiledPolicy;
  before(async () => {
    const loaded = await checkPolicyObject(
      { version: 1, namespaces: { "/chat": { auth: "none", events: { message: { args: [] } } } } },
      process.cwd(),
    );
    policy = compilePolicy(loaded, context);
  });

  it("counts token cache lookups and store outages for the parts that report them", async () => {
    const register = new Registry();
    const observer = await createGuardObserver({ metrics: register }, collectingLogger(), policy);
    observer.tokenCache("hit");
    observer.tokenCache("hit");
    observer.tokenCache("miss");
    const told: string[] = [];
    const reporter = observer.storeOutageReporter({
      outage: (store) => told.push(`${store} down`),
      recovered: (store) => told.push(`${store} up`),
    });
    reporter.outage("redis");
    reporter.recovered("redis");
    reporter.outage("redis");
    const text = await register.metrics();
    assert.match(text, /^sockguard_token_cache_total\{result="hit"\} 2$/m);
    assert.match(text, /^sockguard_token_cache_total\{result="miss"\} 1$/m);
    assert.match(text, /^sockguard_store_errors_total\{store="redis"\} 2$/m);
    assert.deepEqual(told, ["redis down", "redis up", "redis down"]);
  });

  it("refuses a registry that already holds a guard's metrics, and a logDecisions value it does not know", async () => {
    const register = new Registry();
    await createGuardObserver({ metrics: register }, collectingLogger(), policy);
    await assert.rejects(
      createGuardObserver({ metrics: register }, collectingLogger(), policy),
      /sockguard_decisions_total has already been registered/,
    );
    await assert.rejects(
      createGuardObserver({ logDecisions: "some" as "all" }, collectingLogger(), policy),
      /logDecisions must be one of off, denials, all/,
    );
  });

  it("writes the decision log in pino's shape: the fields first, then a message without client text", () => {
    const logger = collectingLogger();
    new DecisionLog(logger, "denials").write(
      { ...DENIAL, rule: { file: "/p/chat.yaml", line: 7, col: 9, path: "/namespaces" } },
      policy,
    );
    new DecisionLog(logger, "denials").write({ ...DENIAL, allowed: true, code: "allowed" }, policy);
    assert.deepEqual(logger.lines, [
      {
        level: "info",
        fields: {
          code: "payload_invalid",
          stage: "event",
          allowed: false,
          shadow: false,
          namespace: "/chat",
          event: "message",
          socketId: "s-1",
          policyVersion: "v1",
          rule: "/p/chat.yaml:7:9",
        },
        message: "sockguard: refused payload_invalid (event)",
      },
    ]);
  });

  it("logs a shadow decision as one that was not enforced", () => {
    const logger = collectingLogger();
    new DecisionLog(logger, "all").write({ ...DENIAL, shadow: true } as Decision, policy);
    assert.equal((logger.lines[0]?.fields as LogFields).shadow, true);
    assert.equal(logger.lines[0]?.message, "sockguard: shadow would refuse payload_invalid (event)");
  });

  it("bounds a flood: a code's lines stop at its budget, and one summary line per code ends the window", async () => {
    const logger = collectingLogger();
    const log = new DecisionLog(logger, "denials", { perCode: 3, windowMs: 150 });
    for (let i = 0; i < 100; i += 1) log.write(DENIAL, policy);
    for (let i = 0; i < 5; i += 1) log.write({ ...DENIAL, code: "rate_limited" }, policy);
    assert.equal(logger.lines.length, 6);
    await delay(250);
    const summaries = logger.lines.slice(6);
    assert.deepEqual(summaries, [
      {
        level: "warn",
        fields: { code: "payload_invalid", suppressed: 97, windowSeconds: 0.15 },
        message: "sockguard: 97 more payload_invalid decision(s) in the last 0.15 s were not logged",
      },
      {
        level: "warn",
        fields: { code: "rate_limited", suppressed: 2, windowSeconds: 0.15 },
        message: "sockguard: 2 more rate_limited decision(s) in the last 0.15 s were not logged",
      },
    ]);
    // A new window: the budget is back.
    log.write(DENIAL, policy);
    assert.equal(logger.lines.length, 9);
    log.close();
    assert.equal(logger.lines.length, 9, "nothing was left out, so close() writes no summary");
  });

  it("escapes control characters and cuts long text", () => {
    assert.equal(safeText("ali\nce\u001b[31m\u2028"), "ali\\u000ace\\u001b[31m\\u2028");
    const long = safeText("x".repeat(10_000));
    assert.equal(long.length, MAX_FIELD_LENGTH);
    assert.ok(long.endsWith("…"));
  });

  it("prints a line with fields as one readable line for the default logger", () => {
    assert.equal(readableLine("sockguard: policy loaded"), "sockguard: policy loaded");
    assert.equal(
      readableLine(
        { code: "payload_invalid", namespace: "/chat", shadow: false },
        "sockguard: refused payload_invalid (event)",
      ),
      "sockguard: refused payload_invalid (event) code=payload_invalid namespace=/chat shadow=false",
    );
  });
});
