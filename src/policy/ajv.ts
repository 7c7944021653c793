import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { JsonObject } from "./types.js";

// ajv-formats is CommonJS with a default export; under NodeNext its default import is the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/**
 * A fresh Ajv for event schemas, with every referenced schema file registered under its `file://`
 * URL. Fresh per use: ids would clash on reload. Validation never changes the data (no
 * coercion, defaults or removal), and enforcement stops at the first error (`allErrors: false`)
 * so a hostile payload cannot make validation do more work than needed.
 */
export function createEventAjv(
  schemas: ReadonlyMap<string, JsonObject>,
  options: { allErrors?: boolean } = {},
): Ajv2020 {
  const ajv = new Ajv2020({
    strict: true,
    // `type: [string, "null"]` is common and unambiguous in event schemas; strict mode otherwise refuses it.
    allowUnionTypes: true,
    allErrors: options.allErrors ?? false,
    coerceTypes: false,
    useDefaults: false,
    removeAdditional: false,
    validateFormats: true,
    // `binary` is the policy's own keyword for binary arguments; it never reaches ajv, but strict
    // mode must not confuse a user's typo for it either, so nothing extra is registered here.
  });
  addFormats(ajv, { mode: "fast" });
  for (const [id, schema] of schemas) ajv.addSchema(schema, id);
  return ajv;
}
