/**
 * The policy language's JSON Schema, `schemas/policy.schema.json`: the one structural truth that
 * editors (through the YAML language server) and the loader both check against.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import type { JsonObject } from "./types.js";

/** Absolute path of `schemas/policy.schema.json` (beside `src/` in the repository, beside `dist/` when installed). */
export const POLICY_SCHEMA_PATH = fileURLToPath(new URL("../../schemas/policy.schema.json", import.meta.url));

/**
 * Keywords the schema carries for editors only. They are declared to ajv as annotations, so strict
 * mode still rejects every other unknown keyword.
 */
export const EDITOR_KEYWORDS = ["patternErrorMessage"] as const;

let cached: { schema: JsonObject; validate: ValidateFunction } | undefined;

/** The parsed schema file (read once per process). */
export function policySchema(): JsonObject {
  return policyValidator().schema;
}

/**
 * The compiled validator for policy documents, with every error reported (`allErrors`) and the
 * failing schema attached to each (`verbose`), so every problem maps to its own position.
 *
 * @example
 * const { validate } = policyValidator();
 * if (!validate(document)) console.log(validate.errors);
 */
export function policyValidator(): { schema: JsonObject; validate: ValidateFunction } {
  if (!cached) {
    const schema = JSON.parse(readFileSync(POLICY_SCHEMA_PATH, "utf8")) as JsonObject;
    cached = { schema, validate: createPolicySchemaAjv().compile(schema) };
  }
  return cached;
}

/** A strict Ajv for the policy schema itself: union types (`[integer, string]`) allowed, editor keywords declared. */
export function createPolicySchemaAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true, verbose: true, allowUnionTypes: true });
  for (const keyword of EDITOR_KEYWORDS) ajv.addKeyword({ keyword, schemaType: "string" });
  return ajv;
}
