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

/**
 * A strict Ajv for the policy schema itself. The schema needs no option a plain `new Ajv2020()`
 * lacks (no union `type`, no editor-only keyword), so CI jobs can check policies with ajv-cli too.
 */
export function createPolicySchemaAjv(): Ajv2020 {
  return new Ajv2020({ strict: true, allErrors: true, verbose: true });
}
