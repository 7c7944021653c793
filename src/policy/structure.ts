/**
 * The structural check: a policy document against `schemas/policy.schema.json`, each ajv error
 * turned into one short message at the YAML node it is about (the key for an unknown key, the
 * parent map for a missing one, the value otherwise).
 */
import type { ErrorObject, ValidateFunction } from "ajv";
import type { JsonValue } from "./types.js";
import type { Report } from "./diagnostic-collector.js";
import type { StructuralFault } from "./sound-parts.js";
import { closestName } from "./closest-name.js";
import { policyValidator } from "./policy-schema.js";
import { childPointer, describePointer } from "./positions.js";

const ROOT_NAME = "the policy";

/** A schema to check a document's structure against (the policy schema by default), and what its root is called. */
export interface StructureSchema {
  /** Compiled with `allErrors` and `verbose`, as `createPolicySchemaAjv` does. */
  readonly validate: ValidateFunction;
  readonly rootName: string;
}

/**
 * Checks `document` against the policy schema (or `against`), reporting each problem; returns where they are
 * (none when it conforms), so the later checks can run on the parts that are sound.
 *
 * @example
 * const parts = soundParts(document, checkStructure(document, report));
 */
export function checkStructure(
  document: JsonValue,
  report: Report,
  against: StructureSchema = { validate: policyValidator().validate, rootName: ROOT_NAME },
): StructuralFault[] {
  const { validate, rootName } = against;
  if (validate(document)) return [];
  const errors = chooseAnyOfBranches(validate.errors ?? []);
  // A map with a missing key and an unknown one usually has the first misspelled as the second:
  // one message, at the unknown key, says both.
  const unknownAt = new Set(
    errors.filter((error) => error.keyword === "additionalProperties").map((error) => error.instancePath),
  );
  const missingAt = new Map<string, string[]>();
  for (const error of errors) {
    if (error.keyword !== "required" || !unknownAt.has(error.instancePath)) continue;
    missingAt.set(error.instancePath, [
      ...(missingAt.get(error.instancePath) ?? []),
      String(error.params.missingProperty),
    ]);
  }
  for (const error of errors) {
    if (error.keyword === "required" && missingAt.has(error.instancePath)) continue;
    const finding = describeError(error, rootName, missingAt.get(error.instancePath));
    if (finding) report(finding.pointer, finding.message, { target: finding.target });
  }
  return errors.map(faultOf);
}

/** Where one ajv error is, as a fault of the document. */
function faultOf(error: ErrorObject): StructuralFault {
  const params = error.params as Record<string, unknown>;
  const badName = error.propertyName ?? (error.keyword === "propertyNames" ? params.propertyName : undefined);
  if (badName !== undefined)
    return { kind: "key", pointer: childPointer(error.instancePath, String(badName)) };
  switch (error.keyword) {
    case "additionalProperties":
      return { kind: "key", pointer: childPointer(error.instancePath, String(params.additionalProperty)) };
    case "required":
      return { kind: "missing", pointer: error.instancePath };
    default:
      return { kind: "invalid", pointer: error.instancePath };
  }
}

/**
 * The schema writes a value of several types as `anyOf` branches, one per type (a plain
 * `new Ajv2020()` refuses union `type`s). A value of one of those types is judged by that branch
 * alone; a value of none of them gets one `type` error listing them all. Outer `anyOf`s are
 * settled first, so the branches of a discarded branch go with it.
 */
function chooseAnyOfBranches(errors: readonly ErrorObject[]): ErrorObject[] {
  let kept = [...errors];
  const anyOfs = errors
    .filter((error) => error.keyword === "anyOf")
    .sort((a, b) => a.instancePath.length - b.instancePath.length);
  for (const anyOf of anyOfs) {
    if (!kept.includes(anyOf)) continue;
    const branches = Array.isArray(anyOf.schema) ? (anyOf.schema as Record<string, unknown>[]) : [];
    const types = branches.map((branch) => String(branch.type));
    const chosen = types.findIndex((type) => hasType(anyOf.data, type));
    const prefix = `${anyOf.schemaPath}/`;
    const within = (error: ErrorObject): boolean =>
      error.schemaPath.startsWith(prefix) &&
      (error.instancePath === anyOf.instancePath || error.instancePath.startsWith(`${anyOf.instancePath}/`));
    kept = kept.filter(
      (error) =>
        error !== anyOf &&
        (!within(error) || (chosen !== -1 && error.schemaPath.startsWith(`${prefix}${chosen}/`))),
    );
    if (chosen === -1) kept.push({ ...anyOf, keyword: "type", params: { type: types } });
  }
  return kept;
}

function hasType(data: unknown, type: string): boolean {
  switch (type) {
    case "integer":
      return Number.isInteger(data);
    case "array":
      return Array.isArray(data);
    case "object":
      return typeof data === "object" && data !== null && !Array.isArray(data);
    case "null":
      return data === null;
    default:
      return typeof data === type;
  }
}

interface Finding {
  readonly pointer: string;
  readonly message: string;
  readonly target: "key" | "value";
}

function describeError(
  error: ErrorObject,
  rootName: string,
  missing: readonly string[] = [],
): Finding | undefined {
  const pointer = error.instancePath;
  const label = describePointer(pointer, rootName);
  const params = error.params as Record<string, unknown>;
  const parentSchema = (error.parentSchema ?? {}) as Record<string, unknown>;

  if (error.propertyName !== undefined) {
    const name = error.propertyName;
    const detail = typeof parentSchema.description === "string" ? parentSchema.description : error.message;
    return { pointer: childPointer(pointer, name), target: "key", message: `${quote(name)}: ${detail}` };
  }

  switch (error.keyword) {
    case "if":
    case "propertyNames":
      // The errors of the branch that failed, or of the name that failed, say it better.
      return undefined;
    case "additionalProperties": {
      const name = String(params.additionalProperty);
      const known = Object.keys((parentSchema.properties ?? {}) as object);
      const suggestion = closestName(name, missing.length > 0 ? missing : known);
      const where = pointer === "" ? "at the top level" : `in ${label}`;
      const hint = suggestion
        ? ` (did you mean ${quote(suggestion)}?)`
        : missing.length > 0
          ? `; expected ${missing.map(quote).join(", ")}`
          : known.length > 0
            ? `; known keys: ${known.join(", ")}`
            : "";
      return {
        pointer: childPointer(pointer, name),
        target: "key",
        message: `unknown key ${quote(name)} ${where}${hint}`,
      };
    }
    case "required":
      return {
        pointer,
        target: "value",
        message: `${label} is missing ${quote(String(params.missingProperty))}`,
      };
    case "type":
      return { pointer, target: "value", message: `${label} must be ${describeTypes(params.type)}` };
    case "enum": {
      if (error.data === "none" && pointer.includes("/algorithms/")) {
        return {
          pointer,
          target: "value",
          message: 'algorithm "none" is never accepted: tokens must be signed',
        };
      }
      const allowed = (params.allowedValues as unknown[]).map((value) => String(value)).join(", ");
      return { pointer, target: "value", message: `${label} must be one of: ${allowed}` };
    }
    case "const":
      return { pointer, target: "value", message: `${label} must be ${JSON.stringify(params.allowedValue)}` };
    case "minItems":
      return {
        pointer,
        target: "value",
        message:
          params.limit === 1
            ? `${label} must not be empty`
            : `${label} needs at least ${String(params.limit)} items`,
      };
    case "minLength":
      return { pointer, target: "value", message: `${label} must not be empty` };
    case "uniqueItems": {
      const later = Math.max(Number(params.i), Number(params.j));
      const item = Array.isArray(error.data) ? (error.data as unknown[])[later] : undefined;
      const shown = typeof item === "string" && item.length <= 80 ? ` ${quote(item)}` : "";
      return {
        pointer: childPointer(pointer, later),
        target: "value",
        message: `${label} repeats${shown || " an item"}`,
      };
    }
    case "pattern": {
      // A pattern's own description says, in words, what the pattern accepts.
      const detail =
        typeof parentSchema.description === "string" ? parentSchema.description : "it has the wrong form";
      return { pointer, target: "value", message: `${label}: ${detail}` };
    }
    default:
      return { pointer, target: "value", message: `${label} ${error.message ?? "is not valid"}` };
  }
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  integer: "a whole number",
  number: "a number",
  boolean: "true or false",
  array: "a list",
  object: "a map",
  null: "empty",
};

function describeTypes(types: unknown): string {
  const list = (Array.isArray(types) ? types : [types]).map(
    (type) => TYPE_NAMES[String(type)] ?? String(type),
  );
  return list.length <= 1 ? (list[0] ?? "valid") : `${list.slice(0, -1).join(", ")} or ${list.at(-1)!}`;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? text.slice(0, 80) + "…" : text);
}
