/**
 * Loading a policy test suite (`*.test.yaml`, DESIGN §4): YAML with positions, checked against
 * `schemas/policy-test.schema.json`, then against its policy: every principal names an issuer the
 * policy has, every `expect` is a code, every connect names a namespace the policy lists or a pattern matches (unless
 * it expects `namespace_not_allowed`), a real token needs an issuer with local keys. Each mistake
 * is a diagnostic with its position, like a policy's.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compileLoaded } from "../compile/compile-loaded.js";
import { createCompileContext } from "../compile/auth.js";
import type { CompiledPolicy } from "../compile/types.js";
import { findNamespace } from "../compile/namespace-lookup.js";
import { DENIAL_CODES, type DenialCode } from "../decisions.js";
import type { Diagnostic } from "../policy/diagnostic.js";
import { DiagnosticCollector } from "../policy/diagnostic-collector.js";
import { FileLog } from "../policy/file-log.js";
import { loadPolicy } from "../policy/load.js";
import type { Policy } from "../policy/types.js";
import { createPolicySchemaAjv } from "../policy/policy-schema.js";
import { childPointer, type Position } from "../policy/positions.js";
import { readDocument } from "../policy/read-document.js";
import { reporterFor } from "../policy/diagnostic-collector.js";
import { checkStructure } from "../policy/structure.js";
import { parseDuration } from "../policy/units.js";

/** Absolute path of `schemas/policy-test.schema.json`. */
export const SUITE_SCHEMA_PATH = fileURLToPath(
  new URL("../../schemas/policy-test.schema.json", import.meta.url),
);

/**
 * What a step expects: a code, optionally the `FILE:LINE[:COL]` of the rule that decides, and
 * `shadow: true` for a denial that `mode: shadow` only reports.
 */
export interface Expectation {
  readonly code: DenialCode | "allowed";
  readonly rule?: string;
  readonly shadow?: boolean;
}

/** A principal as the suite gives it. */
export type PrincipalSpec =
  | {
      readonly kind: "claims";
      readonly issuer: string;
      readonly claims: Record<string, unknown>;
      readonly expired: boolean;
    }
  | { readonly kind: "missing" }
  | { readonly kind: "token"; readonly token: string }
  | { readonly kind: "unsigned"; readonly issuer?: string; readonly claims: Record<string, unknown> };

export interface HandshakeStep {
  readonly kind: "handshake";
  readonly at: Position;
  readonly origin: string | undefined;
  readonly transport: string;
  readonly tls: boolean;
  readonly address?: string;
  readonly host?: string;
  readonly secFetchSite?: string;
  readonly expect?: Expectation;
}

export interface ConnectStep {
  readonly kind: "connect";
  readonly at: Position;
  readonly namespace: string;
  /** The principal's name; undefined for a connect without a token. */
  readonly as?: string;
  readonly expect?: Expectation;
}

export interface EventStep {
  readonly kind: "event";
  readonly at: Position;
  readonly name: string;
  readonly args: readonly unknown[];
  readonly ack: boolean;
  readonly afterMs: number;
  readonly repeat: number;
  readonly expect?: Expectation;
}

export type Step = HandshakeStep | ConnectStep | EventStep;

export interface TestCase {
  readonly name: string;
  readonly at: Position;
  readonly steps: readonly Step[];
  /** Applies to the last step. */
  readonly expect?: Expectation;
}

export interface Suite {
  readonly file: string;
  readonly policyFile: string;
  readonly policy: CompiledPolicy;
  /** Milliseconds since the epoch. */
  readonly now: number;
  readonly principals: ReadonlyMap<string, PrincipalSpec>;
  readonly cases: readonly TestCase[];
  /** Call when done: releases what compiling the policy holds. */
  close(): void;
}

export interface SuiteLoad {
  readonly suite?: Suite;
  readonly diagnostics: readonly Diagnostic[];
}

/** The raw suite document, as the schema shapes it. */
interface SuiteDocument {
  policy: string;
  now?: string;
  env?: Record<string, string>;
  principals?: Record<
    string,
    {
      issuer?: string;
      claims?: Record<string, unknown>;
      token?: string | { alg: "none"; claims?: Record<string, unknown> };
    }
  >;
  tests: Array<{
    name: string;
    handshake?: {
      origin?: string | null;
      transport?: string;
      tls?: boolean;
      address?: string;
      headers?: { host?: string; "sec-fetch-site"?: string };
      expect?: unknown;
    };
    connect?: { namespace: string; as?: string; expect?: unknown };
    events?: Array<{
      name: string;
      args?: unknown[];
      ack?: boolean;
      after?: string | number;
      repeat?: number;
      expect?: unknown;
    }>;
    expect?: unknown;
  }>;
}

let suiteValidator: ReturnType<ReturnType<typeof createPolicySchemaAjv>["compile"]> | undefined;

/**
 * Loads and checks one suite and its policy. Never throws.
 *
 * @example
 * const { suite, diagnostics } = await loadSuite("policies/chat.test.yaml");
 */
export async function loadSuite(path: string): Promise<SuiteLoad> {
  const file = resolve(path);
  const diagnostics = new DiagnosticCollector();
  const read = await readDocument(file, diagnostics, new FileLog());
  if (read.kind === "unreadable") {
    diagnostics.add(file, { line: 1, col: 1 }, "", `cannot read the suite: ${read.problem}`);
    return { diagnostics: diagnostics.sorted([file]) };
  }
  if (read.value === undefined || !read.locator) return { diagnostics: diagnostics.sorted([file]) };
  const locator = read.locator;
  suiteValidator ??= createPolicySchemaAjv().compile(JSON.parse(readFileSync(SUITE_SCHEMA_PATH, "utf8")));
  const faults = checkStructure(read.value, reporterFor(diagnostics, locator), {
    validate: suiteValidator,
    rootName: "the suite",
  });
  if (faults.length > 0) {
    return { diagnostics: diagnostics.sorted([file]) };
  }
  const document = read.value as unknown as SuiteDocument;
  const report = (pointer: string, message: string): void => diagnostics.report(locator, pointer, message);

  const policyFile = resolve(dirname(file), document.policy);
  const loaded = await loadPolicy(policyFile, { env: document.env ?? {} });
  const context = createCompileContext();
  const outcome = compileLoaded(loaded, context);
  if (!outcome.ok || !loaded.policy) {
    context.remoteKeySets.close();
    report("/policy", "the policy does not load (its own errors follow)");
    return { diagnostics: [...diagnostics.sorted([file]), ...(outcome.ok ? [] : outcome.diagnostics)] };
  }
  const policy = outcome.compiled;

  const now = document.now === undefined ? Date.now() : Date.parse(document.now);
  if (!Number.isFinite(now)) report("/now", "expected an ISO 8601 instant such as 2026-01-01T00:00:00Z");

  const principals = new Map<string, PrincipalSpec>();
  for (const [name, spec] of Object.entries(document.principals ?? {})) {
    const at = childPointer("/principals", name);
    const principal = checkPrincipal(spec, at, policy, loaded.policy, report);
    if (principal) principals.set(name, principal);
  }

  const cases = document.tests.map((test, index) => {
    const at = childPointer("/tests", index);
    const steps: Step[] = [];
    const expectAt = (pointer: string, value: unknown): Expectation | undefined => {
      if (value === undefined) return undefined;
      const expected = expectation(value);
      if (expected.shadow === true && expected.code === "allowed")
        report(
          childPointer(pointer, "shadow"),
          "shadow: true expects a denial that is only reported; allowed is none",
        );
      return expected;
    };
    if (test.handshake || !test.connect) {
      const given = test.handshake ?? {};
      steps.push({
        kind: "handshake",
        at: locator.locate(childPointer(at, test.handshake ? "handshake" : "name"), "key"),
        origin: given.origin === null ? undefined : (given.origin ?? loaded.policy!.connection?.origins?.[0]),
        transport: given.transport ?? loaded.policy!.connection?.transports?.[0] ?? "polling",
        tls: given.tls ?? false,
        ...(given.address === undefined ? {} : { address: given.address }),
        ...(given.headers?.host === undefined ? {} : { host: given.headers.host }),
        ...(given.headers?.["sec-fetch-site"] === undefined
          ? {}
          : { secFetchSite: given.headers["sec-fetch-site"] }),
        ...optional("expect", expectAt(childPointer(at, "handshake", "expect"), given.expect)),
      });
    }
    if (test.connect) {
      const connect = test.connect;
      const pointer = childPointer(at, "connect");
      const expect = expectAt(childPointer(pointer, "expect"), connect.expect);
      const lastExpect =
        (test.events ?? []).length === 0 && test.expect !== undefined ? expectation(test.expect) : undefined;
      if (
        findNamespace(policy, connect.namespace) === undefined &&
        (expect ?? lastExpect)?.code !== "namespace_not_allowed"
      ) {
        report(
          childPointer(pointer, "namespace"),
          `the policy lists no namespace ${JSON.stringify(connect.namespace)}`,
        );
      }
      if (connect.as !== undefined && !principals.has(connect.as) && !document.principals?.[connect.as]) {
        report(childPointer(pointer, "as"), `no principal named ${JSON.stringify(connect.as)} in principals`);
      }
      steps.push({
        kind: "connect",
        at: locator.locate(pointer, "key"),
        namespace: connect.namespace,
        ...optional("as", connect.as),
        ...optional("expect", expect),
      });
    }
    (test.events ?? []).forEach((event, eventIndex) => {
      const pointer = childPointer(at, "events", eventIndex);
      if (!test.connect) report(pointer, "events need a connect in the same case");
      const afterMs = event.after === undefined ? 0 : parseDuration(event.after);
      if (afterMs === undefined) report(childPointer(pointer, "after"), "expected a duration such as 10s");
      steps.push({
        kind: "event",
        at: locator.locate(pointer, "value"),
        name: event.name,
        args: event.args ?? [],
        ack: event.ack ?? false,
        afterMs: afterMs ?? 0,
        repeat: event.repeat ?? 1,
        ...optional("expect", expectAt(childPointer(pointer, "expect"), event.expect)),
      });
    });
    return {
      name: test.name,
      at: locator.locate(childPointer(at, "name"), "value"),
      steps,
      ...optional("expect", expectAt(childPointer(at, "expect"), test.expect)),
    };
  });

  if (diagnostics.errorCount > 0) {
    context.remoteKeySets.close();
    return { diagnostics: diagnostics.sorted([file]) };
  }
  return {
    suite: {
      file,
      policyFile,
      policy,
      now,
      principals,
      cases,
      close: () => context.remoteKeySets.close(),
    },
    diagnostics: diagnostics.sorted([file]),
  };
}

function checkPrincipal(
  spec: NonNullable<SuiteDocument["principals"]>[string],
  at: string,
  policy: CompiledPolicy,
  source: Policy,
  report: (pointer: string, message: string) => void,
): PrincipalSpec | undefined {
  const issuerName = spec.issuer;
  if (issuerName !== undefined && !policy.auth.issuers.has(issuerName)) {
    report(
      childPointer(at, "issuer"),
      `the policy has no issuer named ${JSON.stringify(issuerName)} under auth.issuers`,
    );
    return undefined;
  }
  const token = spec.token;
  if (token === "missing") return { kind: "missing" };
  if (typeof token === "object") {
    return { kind: "unsigned", ...optional("issuer", issuerName), claims: token.claims ?? spec.claims ?? {} };
  }
  if (typeof token === "string" && token !== "expired") {
    const entry = issuerName === undefined ? undefined : source.auth?.issuers?.[issuerName];
    if (entry?.jwksUri !== undefined) {
      report(
        childPointer(at, "token"),
        "a real token is checked offline: this issuer's keys are remote (jwksUri); give claims instead",
      );
      return undefined;
    }
    return { kind: "token", token };
  }
  if (issuerName === undefined) {
    report(at, "a principal with claims names the issuer that verified them (issuer: NAME)");
    return undefined;
  }
  return { kind: "claims", issuer: issuerName, claims: spec.claims ?? {}, expired: token === "expired" };
}

function expectation(value: unknown): Expectation {
  // The schema allowed only a code, or { code, rule, shadow } (shadow: true never with allowed).
  if (typeof value === "string") return { code: value as Expectation["code"] };
  const { code, rule, shadow } = value as { code: Expectation["code"]; rule?: string; shadow?: boolean };
  return { code, ...optional("rule", rule), ...(shadow === true ? { shadow } : {}) };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** Every code a step may expect (the schema's `code` enum holds the same list). */
export const EXPECTABLE_CODES: readonly string[] = ["allowed", ...DENIAL_CODES];
