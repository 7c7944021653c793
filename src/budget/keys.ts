/**
 * Whose budget is spent (DESIGN §1.1 `by`): the verified subject (issuer name and `sub`; a socket
 * without one falls back to its address), the client address (as trusted proxies make it), or the
 * socket's Engine.IO connection. One Engine.IO connection carries every namespace socket of a
 * client (DESIGN §7), and a client may open several sockets of one namespace on it: `socket`
 * budgets therefore belong to the connection, so opening more sockets never buys more budget.
 */
import type { Identity } from "../compile/types.js";
import type { RateKeyKind } from "./types.js";

/** Who is spending: what each kind of key is made from. */
export interface BudgetSpender {
  readonly identity: Identity | undefined;
  /** The client address; undefined only when the request had none (then all such clients share one key). */
  readonly address: string | undefined;
  /** The Engine.IO connection's id. */
  readonly connection: string;
}

/**
 * The key `spender` spends rate limits counted `by`, and the key of a per-subject quota. Keys of
 * different kinds never collide: each starts with its kind, and a subject key spells out the
 * issuer's length so no issuer name and `sub` can be read as another pair.
 *
 * @example
 * budgetKey("subject", { identity, address: "203.0.113.7", connection: "a1b2" }); // "s:3:idp:alice"
 */
export function budgetKey(by: RateKeyKind, spender: BudgetSpender): string {
  if (by === "socket") return `c:${spender.connection}`;
  const identity = spender.identity;
  if (by === "subject" && identity?.subject !== undefined) {
    return `s:${identity.issuer.length}:${identity.issuer}:${identity.subject}`;
  }
  return `a:${spender.address ?? ""}`;
}
