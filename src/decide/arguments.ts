/**
 * An event's arguments against its declaration: arity, then binary positions, then the schemas
 * (DESIGN §3 puts binary before schema: a large Buffer never reaches ajv). Nothing here changes the
 * data. Each failure names the policy key behind it: the `args` key for arity, the position for a
 * binary refusal, the schema keyword (in the policy or its schema file) for a schema.
 */
import type { CompiledEvent } from "../compile/types.js";
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
  const declared = event.args;
  const count = data.length - 1;
  if (count < declared.length) {
    return failed(trace, "binary", denial("payload_invalid", event.rules.args, TOO_FEW_ARGUMENTS));
  }
  if (count > declared.length) {
    return failed(trace, "binary", denial("payload_invalid", event.rules.args, TOO_MANY_ARGUMENTS));
  }

  for (let i = 0; i < declared.length; i++) {
    const value = data[i + 1];
    const arg = declared[i]!;
    const maxBytes = arg.binaryMaxBytes;
    if (maxBytes !== undefined) {
      if (!isBinaryValue(value))
        return failed(trace, "binary", denial("payload_invalid", arg.rule, detail(`/${i}`, "binary")));
      if (binaryByteLength(value) > maxBytes) {
        return failed(
          trace,
          "binary",
          denial("payload_invalid", arg.errorRule(undefined), detail(`/${i}`, "maxBytes")),
        );
      }
    } else if (carriedBinary && containsBinary(value)) {
      return failed(trace, "binary", denial("payload_invalid", arg.rule, detail(`/${i}`, "binary")));
    }
  }
  if (trace)
    trace({
      check: "binary",
      outcome: "passed",
      rule: event.rules.args,
      note: "arity and binary positions hold",
    });

  for (let i = 0; i < declared.length; i++) {
    const arg = declared[i]!;
    const validate = arg.validate;
    if (!validate) continue;
    let valid: boolean;
    try {
      // An asynchronous validator would answer with a promise: only a plain `true` admits.
      valid = validate(data[i + 1]) === true;
    } catch {
      return failed(trace, "schema", denial("payload_invalid", arg.rule, VALIDATION_ABORTED));
    }
    if (!valid) {
      const error = validate.errors?.[0];
      const rule = arg.errorRule(error);
      return failed(
        trace,
        "schema",
        denial(
          "payload_invalid",
          rule,
          // A property name the client chose never goes back as it is (DESIGN §3).
          error
            ? detail(
                `/${i}${redactInstancePath(error.instancePath, arg.namedProperties ?? NO_NAMES)}`,
                error.keyword,
              )
            : VALIDATION_ABORTED,
        ),
      );
    }
  }
  if (trace) trace({ check: "schema", outcome: "passed", rule: event.rules.args });
  return ALLOWED;
}
