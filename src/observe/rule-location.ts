import type { Rule } from "../decisions.js";

/**
 * Where a rule is written, as `file:line:col` (the form `sockguard explain` and the decision log
 * print), or `file at /json/pointer` for a policy given as an object (it has no lines).
 *
 * @example
 * ruleLocation({ file: "/srv/policies/chat.yaml", line: 31, col: 9, path: "/namespaces/~1chat" }); // "/srv/policies/chat.yaml:31:9"
 */
export function ruleLocation(rule: Rule): string {
  return rule.line > 0 ? `${rule.file}:${rule.line}:${rule.col}` : `${rule.file} at ${rule.path}`;
}
