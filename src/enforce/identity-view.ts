/**
 * What the app sees of a socket's identity: `socket.data.sockguard`. A frozen copy, written by the
 * guard and never read back by it (the guard keeps its own `Identity` in a `WeakMap`), so an app
 * that mutates `socket.data` cannot change what the guard believes.
 */
import type { Claims, Identity } from "../compile/types.js";

/** `socket.data.sockguard`: who a socket belongs to, as verified by the guard. */
export interface SockguardIdentityView {
  /** The issuer's name in the policy (the key under `auth.issuers`); the token's `iss` is in `claims`. */
  readonly issuer: string;
  /** The token's `sub`, when it has one. */
  readonly subject?: string;
  /** The verified token's claims (deeply frozen). */
  readonly claims: Claims;
  /** When the token expires, in ms since the epoch (its `exp`). */
  readonly expiresAt: number;
}

/** The view of each identity, made once: the sockets of one cached token share its identity, and so its view. */
const views = new WeakMap<Identity, SockguardIdentityView>();

/**
 * The frozen view of `identity` for `socket.data.sockguard`. The claims are shared, not copied: they
 * were deeply frozen when the token was verified; and so is the view, by every socket holding the
 * same identity (a token served from the verified-token cache).
 *
 * @example
 * socket.data.sockguard = identityView(identity);
 */
export function identityView(identity: Identity): SockguardIdentityView {
  let view = views.get(identity);
  if (!view) {
    view = freshView(identity);
    views.set(identity, view);
  }
  return view;
}

function freshView(identity: Identity): SockguardIdentityView {
  return Object.freeze({
    issuer: identity.issuer,
    ...(identity.subject === undefined ? {} : { subject: identity.subject }),
    claims: identity.claims,
    expiresAt: identity.expiresAt,
  });
}
