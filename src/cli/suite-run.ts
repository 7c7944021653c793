/**
 * Runs a loaded suite through decide/, the code the guard decides with: each case is one simulated
 * Engine.IO connection (a handshake, a connect, then its events in order) on the suite's clock.
 * Stateful checks run beside the decisions against per-connection state, as the guard runs them:
 * `maxDenials` ({@link DenialWindow}), and the event budgets (`eventRateLimit`, an event's
 * `rateLimit`), counted by rate-limiter-flexible on the suite's clock ({@link clockRateStore}), so
 * `repeat` and `after` exercise them without waiting. Each case starts with full budgets.
 */
import { UnsecuredJWT } from "jose";
import type { CompiledPolicy, Identity } from "../compile/types.js";
import { ABSENT_TOKEN, decideConnect, type TokenFact } from "../decide/connect.js";
import { decideEvent, decideEventAccess, eventBudgets, type EventFacts } from "../decide/event.js";
import { spendThenDecidePayload } from "../decide/event-budget.js";
import { clockRateStore } from "../budget/clock-rate-store.js";
import type { RateStore } from "../budget/types.js";
import { decideHandshake } from "../decide/handshake.js";
import { connectShadowed, eventShadowed, handshakeShadowed } from "../decide/mode.js";
import { presentedTokenFacts } from "../decide/token-facts.js";
import { ALLOWED, denial, type TraceSink, type Verdict } from "../decide/verdict.js";
import type { Rule } from "../decisions.js";
import { DenialWindow } from "../enforce/denial-limiter.js";
import type { Expectation, PrincipalSpec, Step, Suite, TestCase } from "./suite-load.js";

/** A year: how long a principal's token lives when its claims give no `exp`. */
const DEFAULT_LIFETIME_MS = 365 * 24 * 3600 * 1000;

/** What the stateful checks keep per simulated connection, with the suite's clock. */
export interface SimulatedConnection {
  /** The suite clock, in milliseconds since the epoch. */
  now: number;
  readonly denials: DenialWindow;
  /** The case's event budgets, on the suite clock. */
  readonly budgets: RateStore;
  /** The client address of the case's handshake, when it gave one. */
  address?: string;
  /** Set once the guard would have closed the connection (too_many_denials, a refused handshake). */
  closedWith?: Verdict;
  /** The namespace of the connect, once there was one. */
  namespace?: string;
  identity?: Identity;
}

/** One step as it ran (a repeated event step once per repetition that failed, or once when all passed). */
export interface StepResult {
  readonly step: Step;
  readonly verdict: Verdict;
  /** True when the verdict is a denial that `mode: shadow` only reports (the step went on). */
  readonly shadow: boolean;
  readonly expected?: Expectation;
  readonly passed: boolean;
  /** 1-based repetition of a `repeat` step. */
  readonly repetition?: number;
}

export interface CaseResult {
  readonly case: TestCase;
  readonly passed: boolean;
  readonly steps: readonly StepResult[];
  /** The first failing step. */
  readonly failure?: StepResult;
}

/** Where `explain` (and coverage) listen. */
export interface RunListeners {
  readonly trace?: TraceSink;
  /** Called before each step's decision. */
  readonly onStep?: (step: Step, repetition: number) => void;
}

/**
 * Runs every case of `suite`.
 *
 * @example
 * const results = await runSuite(suite);
 * results.every((result) => result.passed);
 */
export async function runSuite(suite: Suite, listeners: RunListeners = {}): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const testCase of suite.cases) results.push(await runCase(suite, testCase, listeners));
  return results;
}

async function runCase(suite: Suite, testCase: TestCase, listeners: RunListeners): Promise<CaseResult> {
  const policy = suite.policy;
  const connection: SimulatedConnection = {
    now: suite.now,
    denials: new DenialWindow(),
    budgets: clockRateStore(() => connection.now),
  };
  const steps: StepResult[] = [];
  const last = testCase.steps.length - 1;
  for (let index = 0; index <= last; index++) {
    const step = testCase.steps[index]!;
    const expected = step.expect ?? (index === last ? (testCase.expect ?? ALLOWED_EXPECTATION) : undefined);
    const repeat = step.kind === "event" ? step.repeat : 1;
    if (step.kind === "event") connection.now += step.afterMs;
    for (let repetition = 1; repetition <= repeat; repetition++) {
      listeners.onStep?.(step, repetition);
      const { verdict, shadow } = connection.closedWith
        ? { verdict: connection.closedWith, shadow: false }
        : await decideStep(suite, policy, step, connection, listeners.trace);
      const passed = expected === undefined ? true : matches(expected, verdict, suite, shadow);
      const result: StepResult = {
        step,
        verdict,
        shadow,
        ...(expected ? { expected } : {}),
        passed,
        ...(repeat > 1 ? { repetition } : {}),
      };
      if (!passed) {
        steps.push(result);
        return { case: testCase, passed: false, steps, failure: result };
      }
      if (repetition === repeat) steps.push(result);
    }
  }
  return { case: testCase, passed: true, steps };
}

const ALLOWED_EXPECTATION: Expectation = Object.freeze({ code: "allowed" });

/** A step's verdict, and whether `mode: shadow` only reports it (then the connection goes on as if allowed). */
interface StepVerdict {
  readonly verdict: Verdict;
  readonly shadow: boolean;
}

async function decideStep(
  suite: Suite,
  policy: CompiledPolicy,
  step: Step,
  connection: SimulatedConnection,
  trace: TraceSink | undefined,
): Promise<StepVerdict> {
  if (step.kind === "handshake") {
    const verdict = decideHandshake(
      policy,
      {
        origin: step.origin,
        host: step.host,
        secFetchSite: step.secFetchSite,
        transport: step.transport,
        firstRequest: true,
        secure: step.tls,
        ...(step.address === undefined ? {} : { address: step.address }),
      },
      trace,
    );
    if (step.address !== undefined) connection.address = step.address;
    const shadow = verdict !== ALLOWED && handshakeShadowed(policy, verdict.code);
    if (verdict !== ALLOWED && !shadow) connection.closedWith = verdict;
    return { verdict, shadow };
  }
  if (step.kind === "connect") {
    const principal = step.as === undefined ? undefined : suite.principals.get(step.as);
    const token = await tokenFact(policy, step.namespace, principal, connection.now);
    connection.namespace = step.namespace;
    const verdict = decideConnect(policy, { namespace: step.namespace, token, now: connection.now }, trace);
    const shadow = verdict !== ALLOWED && connectShadowed(policy, step.namespace, verdict.code);
    // Admitted, or admitted in shadow: a verified token whose claims failed is still the socket's.
    const admittedIdentity = verdict === ALLOWED || verdict.code === "claims_not_satisfied";
    if (verdict === ALLOWED || shadow) {
      if (token.kind === "verified" && admittedIdentity) connection.identity = token.identity;
    } else {
      countDenial(policy, connection);
      // A refused connect leaves no socket for events to arrive on.
      connection.closedWith ??= verdict;
    }
    return { verdict, shadow };
  }
  const { data, carriedBinary } = eventData(step.name, step.args);
  const namespace = connection.namespace ?? "/";
  const facts: EventFacts = {
    namespace,
    identity: connection.identity,
    data,
    ackRequested: step.ack,
    bytes: encodedBytes(namespace, data, step.ack),
    carriedBinary,
    now: connection.now,
  };
  const verdict = await decideEventWithBudgets(policy, facts, connection, trace);
  const shadow = verdict !== ALLOWED && eventShadowed(policy, namespace, step.name, verdict.code);
  if (verdict !== ALLOWED && !shadow) countDenial(policy, connection);
  return { verdict, shadow };
}

/** An event as the guard decides it: its access checks, its budgets on the suite clock, then its payload. */
async function decideEventWithBudgets(
  policy: CompiledPolicy,
  facts: EventFacts,
  connection: SimulatedConnection,
  trace: TraceSink | undefined,
): Promise<Verdict> {
  const limits = eventBudgets(policy, facts);
  if (limits.length === 0) return decideEvent(policy, facts, trace);
  const access = decideEventAccess(policy, facts, trace);
  if (access !== ALLOWED) return access;
  const spender = { identity: facts.identity, address: connection.address, connection: "suite" };
  return (await spendThenDecidePayload(policy, facts, limits, connection.budgets, spender, trace)).verdict;
}

/** `maxDenials`, as the guard counts it: once over, the connection is closed with too_many_denials. */
function countDenial(policy: CompiledPolicy, connection: SimulatedConnection): void {
  if (connection.denials.record(connection.now, policy.connection.maxDenials)) {
    connection.closedWith = denial("too_many_denials", policy.rules.maxDenials);
  }
}

async function tokenFact(
  policy: CompiledPolicy,
  namespace: string,
  principal: PrincipalSpec | undefined,
  now: number,
): Promise<TokenFact> {
  if (!principal || principal.kind === "missing") return ABSENT_TOKEN;
  if (principal.kind === "token") {
    return presentedTokenFacts(policy, namespace, principal.token, { currentDate: new Date(now) });
  }
  if (principal.kind === "unsigned") {
    const iss = principal.issuer === undefined ? undefined : policy.auth.issuers.get(principal.issuer)?.iss;
    const payload = {
      ...(iss === undefined ? {} : { iss }),
      exp: Math.floor(now / 1000) + 3600,
      ...principal.claims,
    };
    const token = new UnsecuredJWT(payload).encode();
    return presentedTokenFacts(policy, namespace, token, { currentDate: new Date(now) });
  }
  const issuer = policy.auth.issuers.get(principal.issuer)!;
  const claims = principal.claims;
  const sub = typeof claims.sub === "string" ? claims.sub : undefined;
  const expiresAt = principal.expired
    ? now - 3600_000 - policy.auth.clockToleranceSec * 1000
    : typeof claims.exp === "number"
      ? claims.exp * 1000
      : now + DEFAULT_LIFETIME_MS;
  const identity: Identity = Object.freeze({
    issuer: issuer.name,
    iss: issuer.iss,
    ...(sub === undefined ? {} : { subject: sub }),
    claims: Object.freeze({ iss: issuer.iss, exp: Math.floor(expiresAt / 1000), ...claims }),
    expiresAt,
  });
  return { kind: "verified", identity };
}

/** `{ $bytes: N }` in the suite stands for a binary argument of N bytes. */
function eventData(name: string, args: readonly unknown[]): { data: unknown[]; carriedBinary: boolean } {
  let carriedBinary = false;
  const data = [
    name,
    ...args.map((arg) => {
      const bytes = binaryStandIn(arg);
      if (bytes === undefined) return arg;
      carriedBinary = true;
      return Buffer.alloc(bytes);
    }),
  ];
  return { data, carriedBinary };
}

function binaryStandIn(arg: unknown): number | undefined {
  if (typeof arg !== "object" || arg === null || Array.isArray(arg)) return undefined;
  const keys = Object.keys(arg);
  const bytes = (arg as { $bytes?: unknown }).$bytes;
  return keys.length === 1 && typeof bytes === "number" && Number.isInteger(bytes) && bytes >= 0
    ? bytes
    : undefined;
}

/**
 * The packet's size as Socket.IO encodes it: type, namespace (when not `/`), ack id, and the JSON
 * of the data; a binary packet counts its attachment count, placeholders and attachment bytes.
 */
function encodedBytes(namespace: string, data: readonly unknown[], ack: boolean): number {
  let attachments = 0;
  let attachmentBytes = 0;
  const json = JSON.stringify(data, (_key, value: unknown) => {
    if (
      Buffer.isBuffer(value) ||
      (typeof value === "object" && value !== null && (value as { type?: unknown }).type === "Buffer")
    ) {
      const length = Buffer.isBuffer(value)
        ? value.byteLength
        : ((value as { data?: unknown[] }).data?.length ?? 0);
      attachmentBytes += length;
      return { _placeholder: true, num: attachments++ };
    }
    return value;
  });
  const header =
    (attachments > 0 ? `5${attachments}-` : "2") +
    (namespace === "/" ? "" : `${namespace},`) +
    (ack ? "1" : "");
  return Buffer.byteLength(header + json, "utf8") + attachmentBytes;
}

/**
 * True when `verdict` is what `expected` says: the code, whether it was only reported under
 * `mode: shadow` (`shadow: true`; a plain code expects an enforced denial), and the rule's file
 * and line when given.
 */
export function matches(expected: Expectation, verdict: Verdict, suite: Suite, shadow = false): boolean {
  if (expected.code !== verdict.code || (expected.shadow === true) !== shadow) return false;
  if (expected.rule === undefined) return true;
  return verdict.rule !== undefined && ruleMatches(expected.rule, verdict.rule, suite);
}

function ruleMatches(written: string, rule: Rule, suite: Suite): boolean {
  const match = /^(.*?):(\d+)(?::(\d+))?$/.exec(written);
  if (!match) return false;
  const [, file, line, col] = match;
  const sameFile =
    rule.file === file ||
    rule.file.endsWith(`/${file!}`) ||
    rule.file === new URL(file!, `file://${suite.file}`).pathname;
  return sameFile && rule.line === Number(line) && (col === undefined || rule.col === Number(col));
}
