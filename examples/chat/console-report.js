/**
 * What the demo prints: the policy in force, reloads, the diagnostics of a bad edit and every
 * decision of the guard. Decisions are printed as `decision {json}`, one per line, so they can be
 * read by a person and by a program (the browser tests read them). A decision never carries a token
 * or a payload, so printing it whole is safe.
 */
import path from "node:path";

/** @param {string} file */
function relative(file) {
  const shown = path.relative(process.cwd(), file);
  return shown === "" || shown.startsWith("..") ? file : shown;
}

/**
 * A claims requirement as one short phrase: `scope chat:write`, `role admin|owner`.
 *
 * @param {Record<string, unknown> | undefined} requirement
 */
function describeRequirement(requirement) {
  if (!requirement) return "";
  const parts = Object.entries(requirement).map(([claim, value]) => {
    if (Array.isArray(value)) return `${claim} ${value.join("|")}`;
    if (value !== null && typeof value === "object" && "all" in value && Array.isArray(value.all)) {
      return `${claim} ${value.all.join("+")}`;
    }
    return `${claim} ${String(value)}`;
  });
  return `requires ${parts.join(", ")}`;
}

/**
 * Lines describing a loaded policy: its version, connection rules, namespaces and events.
 *
 * @example
 * for (const line of describePolicy(await loadPolicy("policies/chat.yaml"))) console.log(line);
 *
 * @param {{ policy?: import("../../dist/index.js").Policy, version: string, files: readonly string[] }} loaded
 * @returns {string[]}
 */
export function describePolicy(loaded) {
  const lines = [`policy    ${relative(loaded.files[0] ?? "")}  version ${loaded.version.slice(0, 12)}`];
  const policy = loaded.policy;
  if (!policy) return lines;

  const connection = policy.connection ?? {};
  const origins = connection.origins?.join(", ") || "none";
  const transports = (connection.transports ?? ["polling", "websocket"]).join(", ");
  lines.push(`          origins ${origins}; transports ${transports}`);
  for (const [name, namespace] of Object.entries(policy.namespaces)) {
    const rule = [`auth ${namespace.auth ?? "required"}`, describeRequirement(namespace.require)];
    lines.push(`          ${name}  ${rule.filter(Boolean).join(", ")}`);
    for (const [event, spec] of Object.entries(namespace.events ?? {})) {
      lines.push(`            ${event.padEnd(10)} ${describeRequirement(spec.require)}`.trimEnd());
    }
  }
  return lines;
}

/**
 * Diagnostics as `FILE:LINE:COL: SEVERITY: MESSAGE` lines, the format of `sockguard validate`.
 *
 * @param {readonly import("../../dist/index.js").Diagnostic[]} diagnostics
 * @returns {string[]}
 */
export function formatDiagnostics(diagnostics) {
  return diagnostics.map((d) => `  ${relative(d.file)}:${d.line}:${d.col}: ${d.severity}: ${d.message}`);
}

/**
 * One decision of the guard as a single line.
 *
 * @param {import("../../dist/index.js").Decision} decision
 */
export function formatDecision(decision) {
  return `decision ${JSON.stringify(decision)}`;
}

/** How many decisions the page's panel shows. */
const RECENT_DECISIONS = 15;

/**
 * The guard's latest decisions, as the page's panel shows them: code, namespace, event and the
 * policy line that decided. A namespace the policy does not declare is shown as `other`: a name a
 * client chose never reaches the page.
 *
 * @example
 * const recent = new RecentDecisions(["/chat"]);
 * guard.on("decision", (decision) => recent.add(decision));
 * recent.list(); // [{ code, namespace, event, rule, allowed, at }], newest first
 */
export class RecentDecisions {
  /** @type {{ code: string, allowed: boolean, stage: string, namespace: string, event: string, rule: string, at: string }[]} */
  #items = [];
  /** @type {Set<string>} */
  #declared;

  /** @param {readonly string[]} namespaces the namespaces the policy declares */
  constructor(namespaces) {
    this.#declared = new Set(namespaces);
  }

  /** @param {readonly string[]} namespaces the namespaces the policy in force declares now */
  declare(namespaces) {
    this.#declared = new Set(namespaces);
  }

  /** @param {import("../../dist/index.js").Decision} decision */
  add(decision) {
    const namespace = decision.namespace === undefined ? "" : decision.namespace;
    const rule = decision.rule;
    this.#items.unshift({
      code: decision.code,
      allowed: decision.allowed,
      stage: decision.stage,
      namespace: namespace === "" || this.#declared.has(namespace) ? namespace : "other",
      event: decision.event ?? "",
      rule: rule
        ? rule.line > 0
          ? `${relative(rule.file)}:${rule.line}:${rule.col}`
          : relative(rule.file)
        : "",
      at: new Date().toISOString(),
    });
    this.#items.length = Math.min(this.#items.length, RECENT_DECISIONS);
  }

  /** The latest decisions, newest first. */
  list() {
    return this.#items;
  }
}
