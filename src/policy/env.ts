/**
 * Environment values in a policy: `${env:NAME}` and `${env:NAME:-default}` inside any string value
 * of the policy (never in keys, never in schema files). `$${env:...}` stands for the literal text
 * `${env:...}`. An unset variable without a default is an error, never an empty string; as in a
 * shell, `:-default` also replaces a variable that is set but empty.
 */
import type { JsonValue } from "./types.js";
import { childPointer } from "./positions.js";
import { setOwnProperty } from "./json-value.js";

/** A problem with one string value, at its JSON Pointer. The message names the variable, never its value. */
export interface EnvironmentProblem {
  readonly pointer: string;
  readonly message: string;
}

const REFERENCE_START = "${env:";
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Returns a copy of `value` with every environment reference replaced. Strings that cannot be
 * expanded are kept as written and reported.
 *
 * @example
 * expandEnvironment({ secret: "${env:JWT_SECRET}" }, { JWT_SECRET: "..." }, problems);
 * expandEnvironment({ origin: "http://localhost:${env:PORT:-3000}" }, {}, problems); // "http://localhost:3000"
 */
export function expandEnvironment(
  value: JsonValue,
  environment: Readonly<Record<string, string | undefined>>,
  problems: EnvironmentProblem[],
): JsonValue {
  return expandAt(value, "", environment, problems);
}

// The value was built by `toJsonValue`, so it nests at most MAX_NESTING_DEPTH levels: recursion is bounded.
function expandAt(
  value: JsonValue,
  pointer: string,
  environment: Readonly<Record<string, string | undefined>>,
  problems: EnvironmentProblem[],
): JsonValue {
  if (typeof value === "string") {
    const expanded = expandString(value, environment);
    if (typeof expanded === "string") return expanded;
    problems.push({ pointer, message: expanded.problem });
    return value;
  }
  if (Array.isArray(value))
    return value.map((item, index) => expandAt(item, childPointer(pointer, index), environment, problems));
  if (value !== null && typeof value === "object") {
    const copy: { [key: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(value)) {
      setOwnProperty(copy, key, expandAt(item, childPointer(pointer, key), environment, problems));
    }
    return copy;
  }
  return value;
}

/** One string with its references replaced, or the first problem in it. */
export function expandString(
  text: string,
  environment: Readonly<Record<string, string | undefined>>,
): string | { problem: string } {
  if (!text.includes(REFERENCE_START)) return text;
  let result = "";
  let index = 0;
  while (index < text.length) {
    const start = text.indexOf(REFERENCE_START, index);
    if (start === -1) {
      result += text.slice(index);
      break;
    }
    if (start > index && text[start - 1] === "$") {
      // `$${env:...}`: the first `$` escapes the reference, which is kept as text.
      result += text.slice(index, start - 1) + REFERENCE_START;
      index = start + REFERENCE_START.length;
      continue;
    }
    result += text.slice(index, start);
    const end = text.indexOf("}", start);
    if (end === -1) return { problem: "unclosed ${env:...}: a reference ends with }" };
    const body = text.slice(start + REFERENCE_START.length, end);
    const separator = body.indexOf(":-");
    const name = separator === -1 ? body : body.slice(0, separator);
    if (!VARIABLE_NAME.test(name)) {
      return {
        problem: `"${name.slice(0, 64)}" is not an environment variable name (letters, digits and _)`,
      };
    }
    const current = environment[name];
    if (separator === -1) {
      if (current === undefined) {
        return {
          problem: `environment variable ${name} is not set (write \${env:${name}:-default} for a fallback)`,
        };
      }
      result += current;
    } else {
      result += current === undefined || current === "" ? body.slice(separator + 2) : current;
    }
    index = end + 1;
  }
  return result;
}
