/**
 * sockguard: secure a Socket.IO server from one declarative YAML policy.
 *
 * @example
 * import { Server } from "socket.io";
 * import { sockguard } from "sockguard";
 *
 * const io = new Server(httpServer);
 * const guard = await sockguard(io, { policy: "policies/chat.yaml" });
 * guard.on("decision", (decision) => console.log(decision));
 */
export { sockguard } from "./sockguard.js";
export { loadPolicy } from "./policy/load.js";
export { PolicyLoadError } from "./enforce/guard.js";
export { DENIAL_CODES, DENIAL_MESSAGES } from "./decisions.js";

export type {
  Guard,
  GuardEvents,
  GuardStatus,
  ReloadEvent,
  ReloadFailedEvent,
  ReloadOutcome,
  SockguardOptions,
} from "./enforce/guard.js";
export type { Logger } from "./enforce/context.js";
export type { TokenCacheLimitsOption, TokenCacheOption } from "./compile/token-cache.js";
export type { NodeStatus } from "./cluster/node-registry.js";
export type { RedisClientLike } from "./cluster/redis-client.js";
export type { RevocationResult, RevocationTarget } from "./enforce/revocation.js";
export type { SockguardIdentityView } from "./enforce/identity-view.js";
export type { Decision, DenialBody, DenialCode, PayloadErrorDetail } from "./decisions.js";
export type { Diagnostic } from "./policy/diagnostic.js";
export type { PolicyLoadResult, PolicyResources } from "./policy/loaded.js";
export type * from "./policy/types.js";
