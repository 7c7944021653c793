/**
 * What loads of one policy remember about its event schemas between them, so that a reload of a
 * big policy where one event changed checks that event's schema alone. A reloader keeps one
 * ({@link PolicyLoadCache}) and hands it to each of its loads; a load without one checks everything.
 *
 * Two results are kept, and a load uses them only where a fresh check is certain to give the same
 * diagnostics, in the same order:
 *
 * - the lint of a schema (the meta-schema, unknown keywords and formats, patterns) is a function of
 *   the schema's JSON text alone: the problems are kept relative to the schema's place and replayed
 *   at the place it has now (a schema the meta-schema refuses is linted afresh each time);
 * - whether a schema compiles depends on the schema and the schema files: kept per distinct schema
 *   while the schema files are the same text, and only for schemas that name no `$id`, `$anchor` or
 *   `$dynamicAnchor` (those register in the compiling Ajv, so one schema can clash with another).
 *
 * After each load only what that load used is kept: the cache never holds more than one policy's
 * schemas.
 */
import type { ReportOptions } from "./diagnostic-collector.js";

/** One problem a schema's lint reported, its pointer relative to the schema. */
export interface LintReport {
  readonly pointer: string;
  readonly message: string;
  readonly options?: ReportOptions;
}

/** What linting one schema found: its problems in order, and whether none was an error. */
export interface LintOutcome {
  readonly reports: readonly LintReport[];
  readonly clean: boolean;
}

/** What compiling the schemas against one set of schema files gave. */
interface CompileOutcomes {
  /** The schema files as text, in order: the results hold only while this is the same. */
  readonly filesKey: string;
  /** What `getSchema` threw for each file, in order (`null`: it compiled). */
  readonly fileFailures: readonly unknown[];
  /** Per distinct schema (canonical JSON): what compiling it threw (`null`: it compiled). */
  readonly schemas: Map<string, unknown>;
}

/**
 * Event-schema results kept across the loads of one policy (one reloader's).
 *
 * @example
 * const cache = new PolicyLoadCache();
 * await loadPolicy(path, { cache }); // checks every schema
 * await loadPolicy(path, { cache }); // after an edit: checks the schemas that changed
 */
export class PolicyLoadCache {
  #lints = new Map<string, LintOutcome>();
  #compiles: CompileOutcomes | undefined;

  /** Schemas whose lint is held. */
  get size(): number {
    return this.#lints.size;
  }

  /** @internal One load's view: what it reads, and what it leaves for the next load. */
  begin(): LoadCacheView {
    return new LoadCacheView(this.#lints, this.#compiles, (lints, compiles) => {
      this.#lints = lints;
      this.#compiles = compiles;
    });
  }
}

/** @internal What one load reads from and adds to a {@link PolicyLoadCache}. */
export class LoadCacheView {
  readonly #previousLints: ReadonlyMap<string, LintOutcome>;
  readonly #previousCompiles: CompileOutcomes | undefined;
  readonly #lints = new Map<string, LintOutcome>();
  #compiles: CompileOutcomes | undefined;
  readonly #keep: (lints: Map<string, LintOutcome>, compiles: CompileOutcomes | undefined) => void;

  constructor(
    lints: ReadonlyMap<string, LintOutcome>,
    compiles: CompileOutcomes | undefined,
    keep: (lints: Map<string, LintOutcome>, compiles: CompileOutcomes | undefined) => void,
  ) {
    this.#previousLints = lints;
    this.#previousCompiles = compiles;
    this.#keep = keep;
  }

  /**
   * The lint of the schema written as `text` (`JSON.stringify`): kept from an earlier lint, or
   * computed by `lint` now (and kept if it says so).
   */
  lint(text: string, lint: () => { readonly outcome: LintOutcome; readonly keep: boolean }): LintOutcome {
    const kept = this.#lints.get(text) ?? this.#previousLints.get(text);
    if (kept !== undefined) {
      this.#lints.set(text, kept);
      return kept;
    }
    const { outcome, keep } = lint();
    if (keep) this.#lints.set(text, outcome);
    return outcome;
  }

  /** What the previous load's compiling gave, if its schema files were `filesKey`. */
  compiledWith(filesKey: string): Omit<CompileOutcomes, "filesKey"> | undefined {
    return this.#previousCompiles?.filesKey === filesKey ? this.#previousCompiles : undefined;
  }

  /** Records what this load's compiling gave, for the next load. */
  recordCompiles(outcomes: CompileOutcomes): void {
    this.#compiles = outcomes;
  }

  /** The load is over: only what it used is kept. */
  finish(): void {
    this.#keep(this.#lints, this.#compiles);
  }
}

/** True when `text` (a schema's JSON) may register a name in the Ajv that compiles it. */
export function namesSchemaResources(text: string): boolean {
  return text.includes('"$id"') || text.includes('"$anchor"') || text.includes('"$dynamicAnchor"');
}
