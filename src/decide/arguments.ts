/**
 * An event's arguments against its declaration: arity, then binary positions, then the schemas
 * (DESIGN §3 puts binary before schema: a large Buffer never reaches ajv). Nothing here changes the
 * data. Each failure names the policy key behind it: the `args` key for arity, the position for a
 * binary refusal, the schema keyword (in the policy or its schema file) for a schema.
 */
import type { CompiledArg, CompiledEvent, CompiledMessage } from "../compile/types.js";
import type { PayloadErrorDetail } from "../decisions.js";
import { binaryByteLength, containsBinary, isBinaryValue } from "./binary.js";
import { redactInstancePath } from "./redact-path.js";
import { ALLOWED, denial, failed, type TraceSink, type Verdict } from "./verdict.js";

const NO_NAMES: ReadonlySet<string> = new Set();

const detail = (instancePath: string, keyword: string): readonly PayloadErrorDetail[] =>
  Object.freeze([Object.freeze({ instancePath, keyword })]);

const TOO_FEW_ARGUMENTS = detail("", "minItems");
const TOO_MANY_ARGUMENTS = detail("", "maxItems");
/** Validation threw (a payload deep enough to exhaust ajv's stack, say): refused, with no position. */
const VALIDATION_ABORTED: readonly PayloadErrorDetail[] = Object.freeze([]);

/**
 * Checks `data` (the packet's array: the event name, then the arguments; the ack callback is never
 * in it) against `event`. `carriedBinary` says whether the packet brought binary attachments: when
 * it did not, no argument can hold binary and the walk is skipped.
 *
 * @example
 * decideArguments(typingEvent, ["typing", "hello"], false) === ALLOWED;             // true
 * decideArguments(typingEvent, ["typing"], false).details;  // [{ instancePath: "", keyword: "minItems" }]
 */
export function decideArguments(
  event: CompiledEvent,
  data: readonly unknown[],
  carriedBinary: boolean,
  trace?: TraceSink,
): Verdict {
  return checkMessageArguments(event, data, 1, data.length, carriedBinary, "payload_invalid", trace);
}

/**
 * Checks `data[first]` up to (not including) `data[end]` against `message`'s positions; a failure
 * is `code` (`payload_invalid` for what a client sent, `emit_invalid` for what the server sends).
 * Arity first, then binary positions, then the schemas; the details index arguments from 0.
 *
 * @example
 * checkMessageArguments(emit, ["presence", "alice", true], 1, 3, true, "emit_invalid") === ALLOWED;
 */
export function checkMessageArguments(
  message: CompiledMessage,
  data: readonly unknown[],
  first: number,
  end: number,
  carriedBinary: boolean,
  code: "payload_invalid" | "emit_invalid",
  trace?: TraceSink,
): Verdict {
  const declared = message.args;
  const count = end - first;
  if (count < declared.length) {
    return failed(trace, "binary", denial(code, message.rules.args, TOO_FEW_ARGUMENTS));
  }
  if (count > declared.length) {
    return failed(trace, "binary", denial(code, message.rules.args, TOO_MANY_ARGUMENTS));
  }

  for (let i = 0; i < declared.length; i++) {
    const value = data[i + first];
    const arg = declared[i]!;
    const maxBytes = arg.binaryMaxBytes;
    if (maxBytes !== undefined) {
      if (!isBinaryValue(value))
        return failed(trace, "binary", denial(code, arg.rule, detail(`/${i}`, "binary")));
      if (binaryByteLength(value) > maxBytes) {
        return failed(trace, "binary", denial(code, arg.errorRule(undefined), detail(`/${i}`, "maxBytes")));
      }
    } else if (carriedBinary && containsBinary(value)) {
      return failed(trace, "binary", denial(code, arg.rule, detail(`/${i}`, "binary")));
    }
  }
  if (trace)
    trace({
      check: "binary",
      outcome: "passed",
      rule: message.rules.args,
      note: "arity and binary positions hold",
    });

  for (let i = 0; i < declared.length; i++) {
    const arg = declared[i]!;
    const verdict = checkValue(arg, data[i + first], i, code);
    if (verdict !== ALLOWED) return failed(trace, "schema", verdict);
  }
  if (trace) trace({ check: "schema", outcome: "passed", rule: message.rules.args });
  return ALLOWED;
}

/**
 * One value against one compiled schema position; a failure names the keyword's rule and where it
 * failed, under `prefix` (`/auth`, or for an argument its index: `0` is `/0`), with client-chosen
 * property names redacted (DESIGN §3). The prefix is written out only for a failure.
 *
 * @example
 * checkValue(handshake.auth, socket.handshake.auth, "/auth", "payload_invalid") === ALLOWED;
 */
export function checkValue(
  arg: CompiledArg,
  value: unknown,
  prefix: string | number,
  code: "payload_invalid" | "emit_invalid",
): Verdict {
  const validate = arg.validate;
  if (!validate) return ALLOWED;
  let valid: boolean;
  try {
    // An asynchronous validator would answer with a promise: only a plain `true` admits.
    valid = validate(value) === true;
  } catch {
    return denial(code, arg.rule, VALIDATION_ABORTED);
  }
  if (valid) return ALLOWED;
  const error = validate.errors?.[0];
  const at = typeof prefix === "number" ? `/${prefix}` : prefix;
  return denial(
    code,
    arg.errorRule(error),
    error
      ? detail(
          `${at}${redactInstancePath(error.instancePath, arg.namedProperties ?? NO_NAMES)}`,
          error.keyword,
        )
      : VALIDATION_ABORTED,
  );
}
