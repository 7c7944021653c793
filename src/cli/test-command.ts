/**
 * `sockguard test [paths...] [--format text|json|github|junit] [--coverage] [--coverage-min N]`:
 * runs policy test suites (a directory means every `*.test.yaml` in it) through decide/. Exit 0 when
 * every case passes (and coverage is at least N), 1 when one fails or a suite has a mistake, 2 for
 * bad usage or a path that cannot be read.
 */
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Rule } from "../decisions.js";
import { formatDiagnostic, type Diagnostic } from "../policy/diagnostic.js";
import { displayPath } from "../policy/display-path.js";
import type { Verdict } from "../decide/verdict.js";
import type { CliIo } from "./cli-io.js";
import { CoverageRecorder, type Coverage } from "./suite-coverage.js";
import { loadSuite, type Expectation } from "./suite-load.js";
import { runSuite, type CaseResult } from "./suite-run.js";
import { ruleLocation } from "../observe/rule-location.js";

export const TEST_FORMATS = ["text", "json", "github", "junit"] as const;
export type TestFormat = (typeof TEST_FORMATS)[number];

export interface TestOptions {
  readonly format: TestFormat;
  readonly coverage: boolean;
  /** Fail below this percentage of namespaces, events and requirements reached. */
  readonly coverageMin?: number;
}

interface SuiteReport {
  readonly file: string;
  readonly diagnostics: readonly Diagnostic[];
  readonly results: readonly CaseResult[];
  readonly coverage?: Coverage;
}

/**
 * @example
 * const status = await runTests(["policies"], { format: "text", coverage: true }, io);
 */
export async function runTests(paths: readonly string[], options: TestOptions, io: CliIo): Promise<number> {
  const files: string[] = [];
  for (const given of paths.length > 0 ? paths : ["."]) {
    const found = await suiteFiles(resolve(io.cwd, given));
    if (found === undefined) {
      io.stderr(`sockguard: cannot read ${given}\n`);
      return 2;
    }
    files.push(...found);
  }
  if (files.length === 0) {
    io.stderr("sockguard: no *.test.yaml suites found\n");
    return 2;
  }
  const reports: SuiteReport[] = [];
  for (const file of files) {
    const load = await loadSuite(file);
    if (!load.suite) {
      reports.push({ file, diagnostics: load.diagnostics, results: [] });
      continue;
    }
    const recorder =
      options.coverage || options.coverageMin !== undefined
        ? new CoverageRecorder(load.suite.policy)
        : undefined;
    try {
      const results = await runSuite(load.suite, recorder ? { trace: recorder.trace } : {});
      reports.push({
        file,
        diagnostics: load.diagnostics,
        results,
        ...(recorder ? { coverage: recorder.result() } : {}),
      });
    } finally {
      load.suite.close();
    }
  }
  const show = (path: string): string => displayPath(path, io.cwd);
  const formatted =
    options.format === "json"
      ? formatJson(reports, show)
      : options.format === "junit"
        ? formatJunit(reports, show)
        : formatLines(reports, show, options.format === "github", options.coverage);
  io.stdout(formatted);
  const broken = reports.some((report) => report.diagnostics.some((d) => d.severity === "error"));
  const failed = reports.some((report) => report.results.some((result) => !result.passed));
  const belowMin =
    options.coverageMin !== undefined &&
    reports.some((report) => report.coverage !== undefined && report.coverage.percent < options.coverageMin!);
  if (belowMin && options.format !== "json" && options.format !== "junit") {
    io.stderr(`sockguard: coverage is below ${options.coverageMin}%\n`);
  }
  return broken || failed || belowMin ? 1 : 0;
}

async function suiteFiles(path: string): Promise<string[] | undefined> {
  try {
    const stats = await stat(path);
    if (stats.isFile()) return [path];
    if (!stats.isDirectory()) return undefined;
    const names = (await readdir(path)).filter((name) => name.endsWith(".test.yaml")).sort();
    return names.map((name) => join(path, name));
  } catch {
    return undefined;
  }
}

/** `file:line:col` of a rule, relative to the working directory. */
export function ruleText(rule: Rule | undefined, show: (path: string) => string): string {
  return rule ? ruleLocation({ ...rule, file: show(rule.file) }) : "no rule";
}

function expectedText(expected: Expectation | undefined): string {
  if (!expected) return "allowed";
  const code = expected.shadow === true ? `${expected.code} in shadow` : expected.code;
  return expected.rule === undefined ? code : `${code} (rule ${expected.rule})`;
}

function gotText(verdict: Verdict, shadow: boolean, show: (path: string) => string): string {
  return `${verdict.code}${shadow ? " in shadow" : ""} (rule ${ruleText(verdict.rule, show)})`;
}

/** The failure of a case in one line: what was expected, what came, and the rule that decided. */
function failureText(result: CaseResult, show: (path: string) => string): string {
  const failure = result.failure!;
  const repetition = failure.repetition === undefined ? "" : ` (repetition ${failure.repetition})`;
  return `${failure.step.kind} step${repetition}: expected ${expectedText(failure.expected)}, got ${gotText(failure.verdict, failure.shadow, show)}`;
}

function formatLines(
  reports: readonly SuiteReport[],
  show: (path: string) => string,
  github: boolean,
  coverage: boolean,
): string {
  const lines: string[] = [];
  let passed = 0;
  let failed = 0;
  for (const report of reports) {
    for (const diagnostic of report.diagnostics) {
      const shown = { ...diagnostic, file: show(diagnostic.file) };
      lines.push(
        github
          ? `::${shown.severity} file=${shown.file}${shown.line > 0 ? `,line=${shown.line},col=${shown.col}` : ""},title=sockguard test::${escapeData(shown.message)}`
          : formatDiagnostic(shown),
      );
    }
    if (report.results.length > 0 && !github) lines.push(show(report.file));
    for (const result of report.results) {
      if (result.passed) {
        passed += 1;
        if (!github) lines.push(`  ok    ${result.case.name}`);
        continue;
      }
      failed += 1;
      const at = result.failure!.step.at;
      if (github) {
        lines.push(
          `::error file=${show(report.file)},line=${at.line},col=${at.col},title=${escapeProperty(result.case.name)}::${escapeData(failureText(result, show))}`,
        );
      } else {
        lines.push(
          `  FAIL  ${result.case.name}`,
          `        ${show(report.file)}:${at.line}:${at.col}: ${failureText(result, show)}`,
        );
      }
    }
    if (report.coverage && (coverage || report.coverage.missed.length > 0)) {
      lines.push(
        `coverage of ${show(report.file)}: ${report.coverage.percent}% of namespaces, events and requirements reached`,
      );
      for (const item of report.coverage.missed) {
        lines.push(`  not reached: ${item.kind} ${item.name} (${ruleText(item.rule, show)})`);
      }
    }
  }
  const errors = reports.reduce((n, r) => n + r.diagnostics.filter((d) => d.severity === "error").length, 0);
  lines.push(
    `${passed + failed} case${passed + failed === 1 ? "" : "s"}: ${passed} passed, ${failed} failed` +
      (errors > 0 ? `; ${errors} suite error${errors === 1 ? "" : "s"}` : ""),
  );
  return lines.join("\n") + "\n";
}

function formatJson(reports: readonly SuiteReport[], show: (path: string) => string): string {
  const document = {
    passed: reports.every(
      (r) => r.diagnostics.every((d) => d.severity !== "error") && r.results.every((c) => c.passed),
    ),
    suites: reports.map((report) => ({
      file: show(report.file),
      diagnostics: report.diagnostics.map((d) => ({ ...d, file: show(d.file) })),
      cases: report.results.map((result) => ({
        name: result.case.name,
        passed: result.passed,
        line: result.case.at.line,
        ...(result.failure
          ? {
              failure: {
                step: result.failure.step.kind,
                line: result.failure.step.at.line,
                expected: result.failure.expected ?? { code: "allowed" },
                got: {
                  code: result.failure.verdict.code,
                  rule: ruleText(result.failure.verdict.rule, show),
                  ...(result.failure.shadow ? { shadow: true } : {}),
                },
              },
            }
          : {}),
      })),
      ...(report.coverage
        ? {
            coverage: {
              percent: report.coverage.percent,
              missed: report.coverage.missed.map((item) => ({
                kind: item.kind,
                name: item.name,
                rule: ruleText(item.rule, show),
              })),
            },
          }
        : {}),
    })),
  };
  return JSON.stringify(document, null, 2) + "\n";
}

/** JUnit XML: one testsuite per suite file, one testcase per case, suite errors as an errored testcase. */
function formatJunit(reports: readonly SuiteReport[], show: (path: string) => string): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const total = reports.reduce((n, r) => n + Math.max(r.results.length, r.diagnostics.length > 0 ? 1 : 0), 0);
  const failures = reports.reduce((n, r) => n + r.results.filter((c) => !c.passed).length, 0);
  const errors = reports.filter((r) => r.results.length === 0 && r.diagnostics.length > 0).length;
  out.push(`<testsuites name="sockguard test" tests="${total}" failures="${failures}" errors="${errors}">`);
  for (const report of reports) {
    const file = xml(show(report.file));
    const failed = report.results.filter((c) => !c.passed).length;
    const broken = report.results.length === 0 && report.diagnostics.length > 0;
    out.push(
      `  <testsuite name="${file}" file="${file}" tests="${broken ? 1 : report.results.length}" failures="${failed}" errors="${broken ? 1 : 0}">`,
    );
    if (broken) {
      const text = report.diagnostics.map((d) => formatDiagnostic({ ...d, file: show(d.file) })).join("\n");
      out.push(
        `    <testcase name="load ${file}" classname="${file}">`,
        `      <error message="the suite has mistakes">${xml(text)}</error>`,
        "    </testcase>",
      );
    }
    for (const result of report.results) {
      const name = xml(result.case.name);
      if (result.passed) {
        out.push(
          `    <testcase name="${name}" classname="${file}" file="${file}" line="${result.case.at.line}"/>`,
        );
        continue;
      }
      const message = xml(failureText(result, show));
      out.push(
        `    <testcase name="${name}" classname="${file}" file="${file}" line="${result.failure!.step.at.line}">`,
        `      <failure message="${message}" type="${xml(result.failure!.verdict.code)}">${message}</failure>`,
        "    </testcase>",
      );
    }
    out.push("  </testsuite>");
  }
  out.push("</testsuites>");
  return out.join("\n") + "\n";
}

/** Text for XML content and attributes: the five predefined entities, and no character XML 1.0 forbids. */
function xml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "\uFFFD")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

function escapeData(text: string): string {
  return text.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
}

function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(":", "%3A").replaceAll(",", "%2C");
}
