/**
 * Collects the diagnostics of one load: each with its position, duplicates dropped, at most
 * {@link MAX_DIAGNOSTICS} kept (a hostile file must not turn into a hostile report), sorted by file
 * and position at the end.
 */
import type { Diagnostic } from "./diagnostic.js";
import type { LocateTarget, Position, SourceLocator } from "./positions.js";

/** More problems than this are summarised in one last diagnostic. */
export const MAX_DIAGNOSTICS = 200;

export interface ReportOptions {
  readonly severity?: Diagnostic["severity"];
  /** Point at the key naming the value instead of the value (unknown keys, misplaced keys). */
  readonly target?: LocateTarget;
}

export class DiagnosticCollector {
  readonly #kept: Diagnostic[] = [];
  readonly #seen = new Set<string>();
  #dropped = 0;
  #droppedErrors = 0;
  #errors = 0;
  #scrub: (message: string) => string = (message) => message;

  /**
   * Scrubs every message, those already kept and those to come, with `scrub` (which takes the
   * environment's values out of them): no diagnostic can then print one.
   */
  redactWith(scrub: (message: string) => string): void {
    this.#scrub = scrub;
  }

  /** The scrubbing {@link redactWith} set (none: the text as it is). */
  get redact(): (message: string) => string {
    return this.#scrub;
  }

  /** Reports a problem at the value (or key) a JSON Pointer names in `locator`'s file. */
  report(locator: SourceLocator, pointer: string, message: string, options: ReportOptions = {}): void {
    if (this.full) {
      this.#drop(options.severity ?? "error");
      return;
    }
    this.add(locator.file, locator.locate(pointer, options.target), pointer, message, options.severity);
  }

  /** Reports a problem at a known position. */
  add(
    file: string,
    position: Position,
    pointer: string,
    message: string,
    severity: Diagnostic["severity"] = "error",
  ): void {
    if (this.full) {
      this.#drop(severity);
      return;
    }
    if (severity === "error") this.#errors += 1;
    const diagnostic: Diagnostic = {
      file,
      line: position.line,
      col: position.col,
      path: pointer,
      message,
      severity,
    };
    const identity = `${file}\0${position.line}\0${position.col}\0${severity}\0${message}`;
    if (this.#seen.has(identity)) return;
    this.#seen.add(identity);
    this.#kept.push(diagnostic);
  }

  /** True once {@link MAX_DIAGNOSTICS} are kept: callers may stop looking for more. */
  get full(): boolean {
    return this.#kept.length >= MAX_DIAGNOSTICS;
  }

  get errorCount(): number {
    return this.#errors;
  }

  /**
   * The diagnostics, sorted by file (in `fileOrder`, then by name) and position, with a last one
   * saying how many were left out.
   */
  sorted(fileOrder: readonly string[]): Diagnostic[] {
    const rank = (file: string): number => {
      const index = fileOrder.indexOf(file);
      return index === -1 ? fileOrder.length : index;
    };
    const sorted = this.#kept
      .map((diagnostic, index) => ({ diagnostic, index }))
      .sort(
        (a, b) =>
          rank(a.diagnostic.file) - rank(b.diagnostic.file) ||
          (a.diagnostic.file < b.diagnostic.file ? -1 : a.diagnostic.file > b.diagnostic.file ? 1 : 0) ||
          a.diagnostic.line - b.diagnostic.line ||
          a.diagnostic.col - b.diagnostic.col ||
          a.index - b.index,
      )
      // A schema file's name can come from the environment (`$ref: ${env:SCHEMA}`), like any message.
      .map(({ diagnostic }) => ({
        ...diagnostic,
        file: this.#scrub(diagnostic.file),
        message: this.#scrub(diagnostic.message),
      }));
    const last = sorted.at(-1);
    if (this.#dropped > 0 && last) {
      sorted.push({
        ...last,
        message: `${this.#dropped} more problem${this.#dropped === 1 ? "" : "s"} not shown`,
        severity: this.#droppedErrors > 0 ? "error" : "warning",
      });
    }
    return sorted;
  }

  #drop(severity: Diagnostic["severity"]): void {
    this.#dropped += 1;
    if (severity === "error") {
      this.#errors += 1;
      this.#droppedErrors += 1;
    }
  }
}

/** Reports a problem at a JSON Pointer of one file (a collector bound to that file's locator). */
export type Report = (pointer: string, message: string, options?: ReportOptions) => void;

/** A {@link Report} for one file. */
export function reporterFor(diagnostics: DiagnosticCollector, locator: SourceLocator): Report {
  return (pointer, message, options) => diagnostics.report(locator, pointer, message, options);
}
