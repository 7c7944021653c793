/**
 * `--coverage`: which namespaces, events and `require` entries of the policy no case reached. A key
 * is reached when a decision read it, as the decisions' trace reports: a namespace found at
 * connect, a declared event found, a require entry evaluated (all of a block that held; up to the
 * failing entry of one that did not).
 */
import type { CompiledPolicy, CompiledRequirement } from "../compile/types.js";
import type { Rule } from "../decisions.js";
import type { TraceSink } from "../decide/verdict.js";

export interface CoverageItem {
  readonly kind: "namespace" | "event" | "requirement";
  /** `/chat`, `/chat message`, `/chat message require scope`. */
  readonly name: string;
  readonly rule: Rule;
}

export interface Coverage {
  readonly items: readonly CoverageItem[];
  readonly missed: readonly CoverageItem[];
  /** Reached items in percent (100 for a policy with nothing to reach). */
  readonly percent: number;
}

/** Collects what the decisions read while a suite runs. */
export class CoverageRecorder {
  readonly #items: CoverageItem[] = [];
  readonly #blocks = new Map<string, readonly string[]>();
  readonly #reached = new Set<string>();

  constructor(policy: CompiledPolicy) {
    const addRequirement = (requirement: CompiledRequirement | undefined, owner: string): void => {
      if (!requirement) return;
      const paths = requirement.checks.map((check) => check.rule.path);
      this.#blocks.set(requirement.rule.path, paths);
      for (const check of requirement.checks) {
        this.#items.push({ kind: "requirement", name: `${owner} require ${check.key}`, rule: check.rule });
      }
    };
    const namespaces = [...policy.namespaces.values(), ...(policy.patterns ?? []).map((p) => p.namespace)];
    for (const namespace of namespaces) {
      this.#items.push({ kind: "namespace", name: namespace.name, rule: namespace.rules.namespace });
      addRequirement(namespace.requirement, namespace.name);
      for (const event of namespace.events.values()) {
        const name = `${namespace.name} ${event.name}`;
        this.#items.push({ kind: "event", name, rule: event.rules.event });
        addRequirement(event.requirement, name);
      }
    }
  }

  /** The trace sink to run decisions with. */
  readonly trace: TraceSink = (step) => {
    if (!step.rule) return;
    const path = step.rule.path;
    if (step.check === "claims") {
      const block = this.#blocks.get(path);
      if (block) {
        for (const entry of block) this.#reached.add(entry);
        return;
      }
      for (const entries of this.#blocks.values()) {
        const at = entries.indexOf(path);
        if (at >= 0) for (const entry of entries.slice(0, at + 1)) this.#reached.add(entry);
      }
      return;
    }
    if (step.outcome === "passed") this.#reached.add(path);
  };

  result(): Coverage {
    const missed = this.#items.filter((item) => !this.#reached.has(item.rule.path));
    const total = this.#items.length;
    const percent = total === 0 ? 100 : Math.floor(((total - missed.length) / total) * 1000) / 10;
    return { items: this.#items, missed, percent };
  }
}
