/**
 * Environment values in a policy: `${env:NAME}` and `${env:NAME:-default}` inside any string value
 * of the policy (never in keys, never in schema files). `$${env:...}` stands for the literal text
 * `${env:...}`. An unset variable without a default is an error, never an empty string; as in a
 * shell, `:-default` also replaces a variable that is set but empty.
 *
 * A string that is exactly one reference, on a key whose schema takes no string (`requireTls`,
 * `version`), is read as the boolean or number it spells; on a size or duration key (a number or a
 * string) a number it spells exactly becomes that number (`65536`, `30` seconds). Anything else
 * stays a string, and the structural check then names the key, and the variable.
 */
import type { JsonValue } from "./types.js";
import type { Report } from "./diagnostic-collector.js";
import { childPointer } from "./positions.js";
import { setOwnProperty } from "./json-value.js";

/** A problem with one string value, at its JSON Pointer. The message names the variable, never its value. */
export interface EnvironmentProblem {
  readonly pointer: string;
  readonly message: string;
}

/** What the policy schema takes at one place of the document. */
export interface ValueExpectation {
  /** The JSON types the schema accepts there (empty when it does not say). */
  readonly types: ReadonlySet<string>;
  /** A secret (`writeOnly` in the schema): an unset variable there gets no `:-default` hint. */
  readonly secret: boolean;
}

export interface EnvironmentExpansion {
  /**
   * The document with every reference replaced (strings that could not be, kept as written): the
   * objects and lists that hold a replaced value are copies, the others are the document's own.
   */
  readonly value: JsonValue;
  readonly problems: readonly EnvironmentProblem[];
  /** The variables each expanded string came from, by JSON Pointer: messages about it name them. */
  readonly variables: ReadonlyMap<string, readonly string[]>;
  /** Every value read from the environment (defaults written in the policy are not): never printed. */
  readonly values: ReadonlySet<string>;
}

const REFERENCE_START = "${env:";
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const WHOLE_REFERENCE = /^\$\{env:([^}]*)\}$/;
/** A number as JSON writes one, and nothing else (no spaces, hex, `Infinity` or leading `+`). */
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
const NOTHING_EXPECTED: ValueExpectation = { types: new Set(), secret: false };

/**
 * Returns `value` with every environment reference replaced (only what holds a reference is
 * copied), what could not be, and which variables each value came from. `expects` says what the schema takes at a pointer.
 *
 * @example
 * expandEnvironment({ secret: "${env:JWT_SECRET}" }, { JWT_SECRET: "..." });
 * expandEnvironment({ origin: "http://localhost:${env:PORT:-3000}" }, {}).value; // { origin: "http://localhost:3000" }
 */
export function expandEnvironment(
  value: JsonValue,
  environment: Readonly<Record<string, string | undefined>>,
  expects: (pointer: string) => ValueExpectation = () => NOTHING_EXPECTED,
): EnvironmentExpansion {
  const problems: EnvironmentProblem[] = [];
  const variables = new Map<string, string[]>();
  const values = new Set<string>();
  // The path down to the value being expanded: its pointer is built only for a string that holds
  // a reference (a big policy has tens of thousands of values, and few references).
  const path: (string | number)[] = [];
  // The value was built by `toJsonValue`, so it nests at most MAX_NESTING_DEPTH levels: recursion is bounded.
  const expandAt = (item: JsonValue): JsonValue => {
    if (typeof item === "string") {
      if (!item.includes(REFERENCE_START)) return item;
      const pointer = childPointer("", ...path);
      const expectation = expects(pointer);
      const expanded = expandString(item, environment, { secret: expectation.secret, used: values });
      if (typeof expanded !== "string") {
        problems.push({ pointer, message: expanded.problem });
        return item;
      }
      const names = referencedNames(item);
      if (names.length > 0) variables.set(pointer, names);
      return WHOLE_REFERENCE.test(item) ? asExpectedType(expanded, expectation.types) : expanded;
    }
    if (Array.isArray(item)) {
      let copy: JsonValue[] | undefined;
      item.forEach((entry, index) => {
        path.push(index);
        const expanded = expandAt(entry);
        path.pop();
        if (expanded !== entry) copy ??= [...item];
        if (copy) copy[index] = expanded;
      });
      return copy ?? item;
    }
    if (item !== null && typeof item === "object") {
      let copy: { [key: string]: JsonValue } | undefined;
      for (const [key, entry] of Object.entries(item)) {
        path.push(key);
        const expanded = expandAt(entry);
        path.pop();
        if (expanded !== entry && !copy) {
          copy = {};
          for (const [earlier, kept] of Object.entries(item)) {
            if (earlier === key) break;
            setOwnProperty(copy, earlier, kept);
          }
        }
        if (copy) setOwnProperty(copy, key, expanded);
      }
      return copy ?? item;
    }
    return item;
  };
  return { value: expandAt(value), problems, variables, values };
}

/**
 * A reporter that says, in each message about a value read from the environment, which variables
 * it came from (never their values: one may be a secret). Messages about a value that could not be
 * expanded are left alone: they name the variable already, and the structure it breaks is no news.
 *
 * @example
 * const report = namingVariables(reporterFor(diagnostics, locator), expansion);
 * report("/connection/requireTls", "connection.requireTls must be true or false");
 * // "connection.requireTls must be true or false (from environment variable REQUIRE_TLS)"
 */
export function namingVariables(report: Report, expansion: EnvironmentExpansion): Report {
  const unexpanded = new Set(expansion.problems.map((problem) => problem.pointer));
  return (pointer, message, options) => {
    if (unexpanded.has(pointer)) return;
    const names = expansion.variables.get(pointer);
    if (names === undefined) report(pointer, message, options);
    else {
      const which = names.length === 1 ? "variable" : "variables";
      report(pointer, `${message} (from environment ${which} ${names.join(", ")})`, options);
    }
  };
}

/** The text of a whole-value reference as the type the schema takes there, when it spells one exactly. */
function asExpectedType(text: string, types: ReadonlySet<string>): JsonValue {
  const numeric = types.has("number") || types.has("integer");
  if (!types.has("string")) {
    if (types.has("boolean") && (text === "true" || text === "false")) return text === "true";
    if (numeric && JSON_NUMBER.test(text)) return Number(text);
    return text;
  }
  // A size or a duration (a number or a string): a bare number means the same as the number. Where
  // a boolean is also taken (a claim value), the string stays: "1" and 1 are different claims.
  if (numeric && !types.has("boolean") && JSON_NUMBER.test(text)) return Number(text);
  return text;
}

/** The variable names a string refers to (escaped references left out), in order, each once. */
function referencedNames(text: string): string[] {
  const names: string[] = [];
  for (const match of text.matchAll(/(\$?)\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}/g)) {
    if (match[1] === "" && !names.includes(match[2]!)) names.push(match[2]!);
  }
  return names;
}

/** One string with its references replaced, or the first problem in it. */
export function expandString(
  text: string,
  environment: Readonly<Record<string, string | undefined>>,
  options: {
    readonly secret?: boolean;
    /** Collects the environment values substituted. */ readonly used?: Set<string>;
  } = {},
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
          problem: options.secret
            ? `environment variable ${name} is not set: set it where the server runs (a secret has no default)`
            : `environment variable ${name} is not set (write \${env:${name}:-default} for a fallback)`,
        };
      }
      result += current;
      options.used?.add(current);
    } else if (current === undefined || current === "") {
      result += body.slice(separator + 2);
    } else {
      result += current;
      options.used?.add(current);
    }
    index = end + 1;
  }
  return result;
}
