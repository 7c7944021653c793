/**
 * The logger the guard uses without a `logger` option: lines for a person at a terminal. A load or
 * reload is one `info` line on stdout (console.info); what needs attention goes to stderr. A line
 * with fields (the decision log's) is its message followed by `key=value` pairs, so it stays one
 * readable line.
 */
import type { LogFields, Logger } from "../enforce/context.js";

/**
 * One line from pino's two shapes: a message alone, or the fields and then the message.
 *
 * @example
 * readableLine({ code: "payload_invalid", namespace: "/chat" }, "sockguard: refused payload_invalid");
 * // "sockguard: refused payload_invalid code=payload_invalid namespace=/chat"
 */
export function readableLine(fieldsOrMessage: LogFields | string, message?: string): string {
  if (typeof fieldsOrMessage === "string") return fieldsOrMessage;
  const pairs = Object.entries(fieldsOrMessage).map(([key, value]) => `${key}=${String(value)}`);
  return [message ?? "", ...pairs].filter((part) => part !== "").join(" ");
}

/** The default logger: `console`, one readable line per call. */
export const consoleLogger: Logger = {
  info: (fieldsOrMessage, message) => console.info(readableLine(fieldsOrMessage, message)),
  warn: (fieldsOrMessage, message) => console.warn(readableLine(fieldsOrMessage, message)),
  error: (fieldsOrMessage, message) => console.error(readableLine(fieldsOrMessage, message)),
};
