/**
 * The decision layer (DESIGN §5): pure verdicts from a compiled policy and facts. The guard, `sockguard
 * test` and `sockguard explain` all decide here, so a passing test means the guard decides the same.
 */
export { ALLOWED, denial, type CheckName, type TraceSink, type TraceStep, type Verdict } from "./verdict.js";
export { decideHandshake, type HandshakeFacts } from "./handshake.js";
export {
  ABSENT_TOKEN,
  UNREADABLE_TOKEN,
  decideConnect,
  decideHandshakeFields,
  decideTokenIssuer,
  type ConnectFacts,
  type HandshakeFields,
  type TokenFact,
} from "./connect.js";
export { decideLiveSocket, refusesConnection, type LiveSocketFacts } from "./live-socket.js";
export {
  decideEvent,
  decideEventAccess,
  decideEventPayload,
  eventBudgets,
  type EventFacts,
} from "./event.js";
export { spendThenDecidePayload, type BudgetedVerdict } from "./event-budget.js";
export { decideArguments } from "./arguments.js";
export { decideEmit, decideReply } from "./emit.js";
export { cachedTokenFacts, presentedTokenFacts } from "./token-facts.js";
