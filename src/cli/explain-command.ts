/**
 * `sockguard explain --policy FILE [CASE.yaml] [--origin O] [--transport T] [--tls] [--namespace N]
 * [--issuer I] [--claims JSON] [--event E] [--args JSON]`: runs one case through decide/ with a
 * trace, and prints every check in order with its outcome and the policy key that decided, then
 * the code. A CASE file is a test suite; its first case is explained.
 */
import { resolve } from "node:path";
import { compileLoaded } from "../compile/compile-loaded.js";
import { createCompileContext } from "../compile/auth.js";
import type { TraceStep } from "../decide/verdict.js";
import { formatDiagnostic } from "../policy/diagnostic.js";
import { displayPath } from "../policy/display-path.js";
import { loadPolicy } from "../policy/load.js";
import type { CliIo } from "./cli-io.js";
import { loadSuite, type PrincipalSpec, type Step, type Suite } from "./suite-load.js";
import { runSuite } from "./suite-run.js";
import { ruleText } from "./test-command.js";

export interface ExplainFlags {
  readonly policy?: string;
  readonly origin?: string;
  readonly transport?: string;
  readonly tls?: boolean;
  readonly namespace?: string;
  readonly issuer?: string;
  readonly claims?: string;
  readonly event?: string;
  readonly args?: string;
}

const CHECK_TITLES: Record<TraceStep["check"], string> = {
  origin: "origin",
  transport: "transport",
  tls: "TLS",
  namespace: "namespace",
  token: "token",
  issuer: "token issuer",
  claims: "claims",
  event: "event",
  "token expiry": "token expiry",
  budget: "rate limit",
  size: "size",
  ack: "acknowledgement",
  handshake: "handshake auth and query",
  binary: "arguments and binary",
  schema: "schema",
};

/**
 * @example
 * await explainCase(undefined, { policy: "policies/chat.yaml", namespace: "/chat", claims: '{"scope":"chat:read"}', event: "message", args: '[{"text":"hi"}]' }, io);
 */
export async function explainCase(
  caseFile: string | undefined,
  flags: ExplainFlags,
  io: CliIo,
): Promise<number> {
  const show = (path: string): string => displayPath(path, io.cwd);
  let suite: Suite | undefined;
  if (caseFile !== undefined) {
    const load = await loadSuite(resolve(io.cwd, caseFile));
    for (const diagnostic of load.diagnostics)
      io.stdout(formatDiagnostic({ ...diagnostic, file: show(diagnostic.file) }) + "\n");
    if (!load.suite) return 1;
    suite = { ...load.suite, cases: load.suite.cases.slice(0, 1) };
  } else {
    if (flags.policy === undefined) {
      io.stderr("sockguard: explain needs --policy FILE (or a case file)\n");
      return 2;
    }
    const built = await suiteFromFlags(resolve(io.cwd, flags.policy), flags, io);
    if (typeof built === "number") return built;
    suite = built;
  }
  try {
    const lines: string[] = [];
    const results = await runSuite(suite, {
      onStep: (step, repetition) => lines.push(stepTitle(step, repetition)),
      trace: (step) => {
        const where = step.rule ? ` (${ruleText(step.rule, show)})` : "";
        const outcome = step.outcome === "failed" ? `FAILED: ${step.code ?? ""}` : step.outcome;
        lines.push(
          `  ${CHECK_TITLES[step.check].padEnd(22)} ${outcome}${where}${step.note ? ` — ${step.note}` : ""}`,
        );
      },
    });
    const result = results[0];
    const last = result?.failure ?? result?.steps.at(-1);
    if (last) {
      lines.push(
        `decision: ${last.verdict.code}${last.verdict.rule ? `, decided by ${ruleText(last.verdict.rule, show)}` : ""}`,
      );
    }
    io.stdout(lines.join("\n") + "\n");
    return 0;
  } finally {
    suite.close();
  }
}

function stepTitle(step: Step, repetition: number): string {
  const again = repetition > 1 ? ` (repetition ${repetition})` : "";
  if (step.kind === "handshake")
    return `handshake: ${step.transport}, Origin ${step.origin ?? "(none)"}${step.tls ? ", TLS" : ""}`;
  if (step.kind === "connect")
    return `connect to ${step.namespace}${step.as ? ` as ${step.as}` : " without a token"}`;
  return `event ${JSON.stringify(step.name)}${again}`;
}

async function suiteFromFlags(policyFile: string, flags: ExplainFlags, io: CliIo): Promise<Suite | number> {
  const loaded = await loadPolicy(policyFile);
  const context = createCompileContext();
  const outcome = compileLoaded(loaded, context);
  if (!outcome.ok) {
    context.remoteKeySets.close();
    for (const diagnostic of outcome.diagnostics)
      io.stdout(formatDiagnostic(diagnostic, { relativeTo: io.cwd }) + "\n");
    return 1;
  }
  const policy = outcome.compiled;
  const parse = (name: string, text: string | undefined): unknown => {
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new UsageError(`--${name} is not JSON`);
    }
  };
  try {
    const claims = parse("claims", flags.claims);
    const args = parse("args", flags.args) ?? [];
    if (claims !== undefined && (typeof claims !== "object" || claims === null || Array.isArray(claims))) {
      throw new UsageError("--claims must be a JSON object");
    }
    if (!Array.isArray(args)) throw new UsageError("--args must be a JSON array");
    const issuer =
      flags.issuer ?? (policy.auth.issuers.size === 1 ? [...policy.auth.issuers.keys()][0] : undefined);
    if (claims !== undefined && (issuer === undefined || !policy.auth.issuers.has(issuer))) {
      throw new UsageError("--issuer must name one of the policy's issuers");
    }
    const at = { line: 0, col: 0 };
    const steps: Step[] = [
      {
        kind: "handshake",
        at,
        origin: flags.origin ?? loaded.policy?.connection?.origins?.[0],
        transport: flags.transport ?? loaded.policy?.connection?.transports?.[0] ?? "polling",
        tls: flags.tls ?? false,
      },
    ];
    const principals = new Map<string, PrincipalSpec>();
    if (flags.namespace !== undefined) {
      if (claims !== undefined)
        principals.set("the token", {
          kind: "claims",
          issuer: issuer!,
          claims: claims as Record<string, unknown>,
          expired: false,
        });
      steps.push({
        kind: "connect",
        at,
        namespace: flags.namespace,
        ...(claims === undefined ? {} : { as: "the token" }),
      });
      if (flags.event !== undefined) {
        steps.push({ kind: "event", at, name: flags.event, args, ack: false, afterMs: 0, repeat: 1 });
      }
    }
    return {
      file: policyFile,
      policyFile,
      policy,
      now: Date.now(),
      principals,
      cases: [{ name: "explain", at, steps }],
      close: () => context.remoteKeySets.close(),
    };
  } catch (error) {
    context.remoteKeySets.close();
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`sockguard: ${error.message}\n`);
    return 2;
  }
}

class UsageError extends Error {}
