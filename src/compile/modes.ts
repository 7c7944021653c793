/**
 * `mode: shadow` (DESIGN §1.1), compiled: for each namespace key and each of its events, whether a
 * denial there is only reported. Compiled to nothing at all when no key of the policy says
 * `shadow`, so the guard's only cost where the feature is unused is reading one absent property.
 */
import type { Policy, PolicyMode } from "../policy/types.js";

/** The modes of one namespace key: its own (resolved against the top), and each event's that differs. */
export interface CompiledNamespaceMode {
  /** True when a denial of a connect to this namespace (or of an event with no mode of its own) is only reported. */
  readonly shadow: boolean;
  /** The events whose resolved mode is not the namespace's, by name: true for shadow. */
  readonly events: ReadonlyMap<string, boolean>;
}

/** Every resolved mode of a policy that has at least one `mode: shadow`. */
export interface CompiledModes {
  /** The top-level mode: handshakes, and namespaces and events that name none. */
  readonly shadow: boolean;
  /** By namespace key (a pattern as written); a key that is absent has the top-level mode. */
  readonly namespaces: ReadonlyMap<string, CompiledNamespaceMode>;
}

/**
 * The policy's modes, resolved from the most specific key (event → namespace → top); undefined
 * when no key says `shadow` (then every denial is enforced and nothing needs looking up).
 *
 * @example
 * compileModes({ version: 1, mode: "shadow", namespaces: { "/chat": {} } })?.shadow; // true
 * compileModes({ version: 1, namespaces: { "/chat": {} } }); // undefined
 */
export function compileModes(policy: Policy): CompiledModes | undefined {
  const top = isShadow(policy.mode, false);
  let anyShadow = top;
  const namespaces = new Map<string, CompiledNamespaceMode>();
  for (const [key, namespace] of Object.entries(policy.namespaces ?? {})) {
    const shadow = isShadow(namespace.mode, top);
    anyShadow ||= shadow;
    const events = new Map<string, boolean>();
    for (const [name, event] of Object.entries(namespace.events ?? {})) {
      const eventShadow = isShadow(event.mode, shadow);
      anyShadow ||= eventShadow;
      if (eventShadow !== shadow) events.set(name, eventShadow);
    }
    if (shadow !== top || events.size > 0) namespaces.set(key, Object.freeze({ shadow, events }));
  }
  return anyShadow ? Object.freeze({ shadow: top, namespaces }) : undefined;
}

function isShadow(mode: PolicyMode | undefined, inherited: boolean): boolean {
  return mode === undefined ? inherited : mode === "shadow";
}
