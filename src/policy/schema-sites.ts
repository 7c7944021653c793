/**
 * Every JSON Schema a policy holds inline, with its pointer: the arguments of each event and of its
 * `reply`, each emit's, and the namespace's `handshake` schemas. The loader checks these, the rule
 * locator indexes them, so both read the same list. Binary arguments (`{ binary: ... }`) are the
 * policy's own form, not JSON Schemas, and are left out.
 */
import type { ArgSpec, MessagePolicy, Policy } from "./types.js";
import type { SchemaSite } from "./refs.js";
import { childPointer } from "./positions.js";
import { isBinaryArg } from "./check-namespaces.js";

/**
 * @example
 * policySchemaSites(policy).map((site) => site.pointer); // ["/namespaces/~1chat/events/message/schema", ...]
 */
export function policySchemaSites(policy: Policy): SchemaSite[] {
  const sites: SchemaSite[] = [];
  const addArgs = (message: MessagePolicy, at: string): void => {
    const add = (arg: ArgSpec, pointer: string): void => {
      if (!isBinaryArg(arg)) sites.push({ pointer, schema: arg });
    };
    if (message.schema !== undefined) add(message.schema, childPointer(at, "schema"));
    message.args?.forEach((arg, index) => add(arg, childPointer(at, "args", index)));
  };
  for (const [namespace, spec] of Object.entries(policy.namespaces)) {
    const at = childPointer("/namespaces", namespace);
    for (const [field, schema] of Object.entries(spec.handshake ?? {})) {
      if (schema !== undefined) sites.push({ pointer: childPointer(at, "handshake", field), schema });
    }
    for (const [event, eventSpec] of Object.entries(spec.events ?? {})) {
      addArgs(eventSpec, childPointer(at, "events", event));
      if (eventSpec.reply) addArgs(eventSpec.reply, childPointer(at, "events", event, "reply"));
    }
    for (const [name, emit] of Object.entries(spec.emits ?? {}))
      addArgs(emit, childPointer(at, "emits", name));
  }
  return sites;
}
