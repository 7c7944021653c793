/**
 * An event's arguments against its declaration: arity, then binary positions, then the schemas
 * (DESIGN §3 puts binary before schema: a large Buffer never reaches ajv). Nothing here changes the
 * data.
 */
import type { CompiledEvent } from "../compile/types.js";
import type { PayloadErrorDetail } from "../decisions.js";
import { binaryByteLength, containsBinary, isBinaryValue } from "./binary.js";
import { redactInstancePath } from "./redact-path.js";

const NO_NAMES: ReadonlySet<string> = new Set();

/** Where arguments failed; empty when the failure has no position to report. */
export type ArgumentFailure = readonly PayloadErrorDetail[];

const freezeDetail = (instancePath: string, keyword: string): ArgumentFailure =>
  Object.freeze([Object.freeze({ instancePath, keyword })]);

const TOO_FEW_ARGUMENTS = freezeDetail("", "minItems");
const TOO_MANY_ARGUMENTS = freezeDetail("", "maxItems");
/** Validation threw (a payload deep enough to exhaust ajv's stack, say): refused, with no position. */
const VALIDATION_ABORTED: ArgumentFailure = Object.freeze([]);

/**
 * Checks `data` (the packet's array: the event name, then the arguments; the ack callback is never
 * in it) against `event`. Returns undefined when every argument holds, else where it failed.
 * `carriedBinary` says whether the packet brought binary attachments: when it did not, no argument
 * can hold binary and the walk is skipped.
 *
 * @example
 * checkEventArguments(typingEvent, ["typing", "hello"], false); // undefined
 * checkEventArguments(typingEvent, ["typing"], false);          // [{ instancePath: "", keyword: "minItems" }]
 */
export function checkEventArguments(
  event: CompiledEvent,
  data: readonly unknown[],
  carriedBinary: boolean,
): ArgumentFailure | undefined {
  const declared = event.args;
  const count = data.length - 1;
  if (count < declared.length) return TOO_FEW_ARGUMENTS;
  if (count > declared.length) return TOO_MANY_ARGUMENTS;

  for (let i = 0; i < declared.length; i++) {
    const value = data[i + 1];
    const maxBytes = declared[i]!.binaryMaxBytes;
    if (maxBytes !== undefined) {
      if (!isBinaryValue(value)) return freezeDetail(`/${i}`, "binary");
      if (binaryByteLength(value) > maxBytes) return freezeDetail(`/${i}`, "maxBytes");
    } else if (carriedBinary && containsBinary(value)) {
      return freezeDetail(`/${i}`, "binary");
    }
  }

  for (let i = 0; i < declared.length; i++) {
    const validate = declared[i]!.validate;
    if (!validate) continue;
    let valid: boolean;
    try {
      // An asynchronous validator would answer with a promise: only a plain `true` admits.
      valid = validate(data[i + 1]) === true;
    } catch {
      return VALIDATION_ABORTED;
    }
    if (!valid) {
      const error = validate.errors?.[0];
      if (!error) return VALIDATION_ABORTED;
      const path = redactInstancePath(error.instancePath, declared[i]!.namedProperties ?? NO_NAMES);
      return freezeDetail(`/${i}${path}`, error.keyword);
    }
  }
  return undefined;
}
