/**
 * Loading a policy: read the file (or take the object), parse it with positions, expand
 * environment values, check it against the policy schema, follow its schema `$ref`s, read its key
 * files (issuers' keys, the TLS certificate and key), run the semantic checks, and check every event schema as the guard will compile it.
 *
 * file → parse → env → structure → refs and key files → semantics → event schemas → result
 *
 * The result carries every diagnostic with its file, line and column; the policy only when there
 * is no error. Loading never throws, never hangs on a hostile file, and never touches the network.
 */
import { dirname, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import type { JsonValue, Policy } from "./types.js";
import type { PolicyLoadResult } from "./loaded.js";
import { POLICY_OBJECT_FILE } from "./diagnostic.js";
import { DiagnosticCollector, reporterFor } from "./diagnostic-collector.js";
import { FileLog } from "./file-log.js";
import { toJsonValue } from "./json-value.js";
import { expandEnvironment, namingVariables } from "./env.js";
import { expectationAt } from "./schema-expectations.js";
import { checkStructure } from "./structure.js";
import { soundParts } from "./sound-parts.js";
import { resolveSchemaRefs, type ReadScope } from "./refs.js";
import { readKeyFiles } from "./key-files.js";
import { checkBudgets } from "./check-budgets.js";
import { checkConnection } from "./check-connection.js";
import { checkTls } from "./check-tls.js";
import { checkAuth } from "./check-auth.js";
import { checkNamespaces } from "./check-namespaces.js";
import { policySchemaSites } from "./schema-sites.js";
import { checkEventSchemas } from "./check-event-schemas.js";
import { checkNamespacePatterns } from "./check-namespace-patterns.js";
import { objectLocator, type SourceLocator } from "./positions.js";
import { readDocument } from "./read-document.js";
import { displayPath } from "./display-path.js";
import { FileRoot } from "./file-root.js";
import { LoadBudget, tooManyValuesMessage } from "./limits.js";
import { redactor } from "./redact.js";
import type { PolicyLoadCache } from "./load-cache.js";

/**
 * Loads and checks a policy file. Never throws: every problem, an unreadable file included, is a
 * diagnostic.
 *
 * @example
 * const { policy, diagnostics, files, version } = await loadPolicy("policies/chat.yaml");
 * if (!policy) for (const d of diagnostics) console.error(`${d.file}:${d.line}:${d.col}: ${d.message}`);
 * await loadPolicy("policies/chat.yaml", { env: { CHAT_PORT: "3000" } }); // a test suite's fixed environment
 * await loadPolicy("policies/chat.yaml", { root: "." }); // $refs may reach ../shared/, inside the cwd
 */
export async function loadPolicy(path: string, options: LoadOptions = {}): Promise<PolicyLoadResult> {
  const file = resolve(path);
  const diagnostics = new DiagnosticCollector();
  const fileLog = new FileLog();
  try {
    const budget = new LoadBudget();
    const read = await readDocument(file, diagnostics, fileLog, budget);
    if (read.kind === "unreadable") {
      fileLog.record(file, undefined);
      diagnostics.add(file, { line: 1, col: 1 }, "", `cannot read the policy file: ${read.problem}`);
      return finish(diagnostics, fileLog, [file]);
    }
    if (read.value === undefined || !read.locator) return finish(diagnostics, fileLog, [file]);
    return await checkDocument({
      value: read.value,
      locator: read.locator,
      baseDir: dirname(file),
      baseUrl: pathToFileURL(file).href,
      scope: { root: await FileRoot.at(options.root ?? dirname(file)), budget, diagnostics, fileLog },
      env: options.env ?? process.env,
      ...(options.cache === undefined ? {} : { cache: options.cache }),
    });
  } catch (error) {
    diagnostics.add(file, { line: 1, col: 1 }, "", unexpectedFailure(error));
    return finish(diagnostics, fileLog, [file]);
  }
}

/**
 * Checks a policy given as an object, exactly as a file would be checked (environment values
 * included); relative paths (`$ref`s, key files) resolve against `baseDir`, the current directory
 * by default, and must stay inside it. Diagnostics about the object have `file: "<policy object>"`, position 0:0 and the
 * `path` of the offending value. The object itself is never modified.
 *
 * @example
 * const result = await checkPolicyObject({ version: 1, namespaces: { "/": { auth: "none", events: {} } } });
 */
export async function checkPolicyObject(
  value: unknown,
  baseDir: string = process.cwd(),
): Promise<PolicyLoadResult> {
  const diagnostics = new DiagnosticCollector();
  const fileLog = new FileLog();
  const locator = objectLocator(POLICY_OBJECT_FILE);
  try {
    const directory = resolve(baseDir);
    const budget = new LoadBudget();
    const converted = toJsonValue(value, { maxValues: budget.valuesLeft, problem: tooManyValuesMessage() });
    if (!converted.ok) {
      diagnostics.report(locator, converted.pointer, `the policy object is not JSON: ${converted.problem}`);
      return finish(diagnostics, fileLog, [POLICY_OBJECT_FILE]);
    }
    return await checkDocument({
      value: converted.value,
      locator,
      baseDir: directory,
      baseUrl: pathToFileURL(directory.endsWith(sep) ? directory : directory + sep).href,
      scope: { root: await FileRoot.at(directory), budget, diagnostics, fileLog },
      env: process.env,
      objectText: JSON.stringify(converted.value),
    });
  } catch (error) {
    diagnostics.report(locator, "", unexpectedFailure(error));
    return finish(diagnostics, fileLog, [POLICY_OBJECT_FILE]);
  }
}

/** How {@link loadPolicy} reads a file. */
export interface LoadOptions {
  /** What `${env:...}` values expand from; `process.env` by default. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The directory `$ref`s and key files must stay inside; the policy file's own directory by
   * default. One that resolves outside (by `..`, an absolute path or a symbolic link) is an error
   * at the value that names it, and is never opened.
   */
  readonly root?: string;
  /**
   * What earlier loads of this policy found about its event schemas: a load with the cache its
   * previous load used re-checks only the schemas that changed, with the same diagnostics a load
   * without it gives. `PolicyReloader` keeps one per policy file.
   */
  readonly cache?: PolicyLoadCache;
}

interface DocumentInput {
  readonly value: JsonValue;
  readonly locator: SourceLocator;
  readonly baseDir: string;
  /** The URL relative `$ref`s in the policy resolve against (the policy file's, or the directory's). */
  readonly baseUrl: string;
  /** The root files stay in, the load's budget, and where diagnostics and files are recorded. */
  readonly scope: ReadScope;
  /** What `${env:...}` values expand from. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The JSON text of a policy given as an object, which counts in its version. */
  readonly objectText?: string;
  readonly cache?: PolicyLoadCache;
}

async function checkDocument(input: DocumentInput): Promise<PolicyLoadResult> {
  const { locator, baseDir, scope } = input;
  const { diagnostics, fileLog } = scope;
  const leading = input.objectText === undefined ? [] : [POLICY_OBJECT_FILE];
  const done = (policy?: Policy, resources?: PolicyLoadResult["resources"]): PolicyLoadResult =>
    finish(diagnostics, fileLog, leading, input.objectText, policy, resources);

  const environment = expandEnvironment(input.value, input.env, expectationAt);
  diagnostics.redactWith(redactor(environment.values));
  for (const problem of environment.problems) diagnostics.report(locator, problem.pointer, problem.message);
  const report = namingVariables(reporterFor(diagnostics, locator), environment);
  // Every problem of every part in one run: the parts found wrong are left out, the rest is checked.
  const parts = soundParts(environment.value, [
    ...checkStructure(environment.value, report),
    ...environment.problems.map((problem) => ({ kind: "invalid" as const, pointer: problem.pointer })),
  ]);
  if (!parts) return done();
  const policy = parts.policy;

  const sites = policySchemaSites(policy);
  const resolved = await resolveSchemaRefs(sites, locator, input.baseUrl, baseDir, scope);
  const keyFiles = await readKeyFiles(policy, baseDir, locator, scope);

  checkConnection(policy, report);
  checkTls(policy, keyFiles, baseDir, report);
  checkAuth(policy, keyFiles, baseDir, report);
  checkNamespaces(parts, report);
  checkNamespacePatterns(policy, report, (pointer) => {
    const { line, col } = locator.locate(pointer, "key");
    return line > 0 ? `line ${line}, column ${col}` : pointer;
  });
  checkBudgets(policy, report);
  const cache = input.cache?.begin();
  checkEventSchemas({
    sites,
    report,
    files: resolved.files.map((file) => ({ file, report: reporterFor(diagnostics, file.locator) })),
    refsComplete: resolved.complete,
    displayUrl: (url) => displayPath(url, baseDir),
    ...(cache === undefined ? {} : { cache }),
  });
  cache?.finish();

  const schemas = new Map(resolved.files.map((file) => [file.url, file.schema]));
  const locators = {
    policy: locator,
    schemaFiles: new Map(resolved.files.map((file) => [file.url, file.locator])),
  };
  return done(policy, { schemas, keyFiles, baseDir, locators });
}

function finish(
  diagnostics: DiagnosticCollector,
  fileLog: FileLog,
  leading: readonly string[],
  objectText?: string,
  policy?: Policy,
  resources?: PolicyLoadResult["resources"],
): PolicyLoadResult {
  const files = fileLog.files;
  const sorted = diagnostics.sorted([...leading, ...files]);
  const base = {
    diagnostics: sorted,
    files,
    version: fileLog.version(objectText),
    redact: diagnostics.redact,
  };
  return diagnostics.errorCount === 0 && policy && resources ? { ...base, policy, resources } : base;
}

/** A failure of the loader itself, as a diagnostic: the policy is refused, the caller learns why. */
function unexpectedFailure(error: unknown): string {
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return `the policy could not be checked (${detail.slice(0, 200)})`;
}
