/**
 * The verdicts on what the server sends (DESIGN §1.1 "Emits", "Acks"): an emit against its
 * namespace's `emits`, and a handler's ack reply against its event's `reply`. A failure is
 * `emit_invalid` with the rule that failed; the guard's `emits` option decides what it does.
 */
import { findNamespace } from "../compile/namespace-lookup.js";
import type { CompiledEvent, CompiledPolicy } from "../compile/types.js";
import { isReservedEventName } from "../policy/reserved-events.js";
import { checkMessageArguments } from "./arguments.js";
import { ALLOWED, denial, type Verdict } from "./verdict.js";

/**
 * Judges an emit in `namespaceName` (a declared name, or a child of a pattern namespace, judged by
 * the pattern's `emits`): `data` is the packet's array (the event name, then the arguments), of
 * which the first `end` entries are judged (the caller leaves an ack callback out).
 * Allowed where the namespace declares no `emits`, and for reserved names (the guard's
 * `sockguard:denied`, Socket.IO's own), which are never checked.
 *
 * @example
 * decideEmit(policy, "/chat", ["message", { text: "hi" }], 2) === ALLOWED;
 * decideEmit(policy, "/chat", ["undeclared"], 1).code; // "emit_invalid", rule: the namespace's emits key
 */
export function decideEmit(
  policy: CompiledPolicy,
  namespaceName: string,
  data: readonly unknown[],
  end: number = data.length,
): Verdict {
  const emits = findNamespace(policy, namespaceName)?.namespace.emits;
  if (!emits) return ALLOWED;
  const name = data[0];
  if (typeof name !== "string") return denial("emit_invalid", emits.rule);
  const emit = emits.declared.get(name);
  if (!emit) return isReservedEventName(name) ? ALLOWED : denial("emit_invalid", emits.rule);
  // What the app sends may hold binary anywhere: every position is walked.
  return checkMessageArguments(emit, data, 1, end, true, "emit_invalid");
}

/**
 * Judges the arguments a handler passed to the ack callback of `event` against its `reply`.
 * Allowed when the event declares none.
 *
 * @example
 * decideReply(event, [{ ok: true }]) === ALLOWED;
 */
export function decideReply(event: CompiledEvent, args: readonly unknown[]): Verdict {
  const reply = event.reply;
  if (!reply) return ALLOWED;
  return checkMessageArguments(reply, args, 0, args.length, true, "emit_invalid");
}
