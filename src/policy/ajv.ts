import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { TEXT_FORMATS } from "./text-formats.js";
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
  options: { allErrors?: boolean; validateSchema?: boolean; verbose?: boolean } = {},
): Ajv2020 {
  const ajv = new Ajv2020({
    // Checking a schema against the 2020-12 meta-schema first compiles that meta-schema, the most
    // expensive part of a fresh Ajv; schemas the loader already checked with {@link metaSchemaAjv}
    // need not pay for it again.
    validateSchema: options.validateSchema ?? true,
    strict: true,
    // `type: [string, "null"]` is common and unambiguous in event schemas; strict mode otherwise refuses it.
    allowUnionTypes: true,
    allErrors: options.allErrors ?? false,
    // `parentSchema` on errors, to locate the failing keyword; errors also then carry the data,
    // which is why only the schema object is ever read from them.
    verbose: options.verbose ?? false,
    coerceTypes: false,
    useDefaults: false,
    removeAdditional: false,
    validateFormats: true,
    // `binary` is the policy's own keyword for binary arguments; it never reaches ajv, but strict
    // mode must not confuse a user's typo for it either, so nothing extra is registered here.
  });
  addFormats(ajv, { mode: "fast" });
  // The policy's own formats: every instance gets them, so the loader's checks, the meta-schema
  // instance that lists known formats and the compiler all agree on what `format` may name.
  for (const [name, format] of Object.entries(TEXT_FORMATS)) ajv.addFormat(name, format);
  for (const [id, schema] of schemas) ajv.addSchema(schema, id);
  return ajv;
}

let sharedMetaSchemaAjv: Ajv2020 | undefined;

/**
 * One Ajv, configured like {@link createEventAjv} with `allErrors`, used only to check schemas
 * against the meta-schema and to list the keywords and formats event schemas may use. No schema is
 * ever added to it, so unlike the compiling instances it can be shared by every load: the
 * meta-schema is compiled once per process instead of once per reload.
 *
 * @example
 * const valid = metaSchemaAjv().validateSchema({ type: "string", maxLength: 10 });
 */
export function metaSchemaAjv(): Ajv2020 {
  sharedMetaSchemaAjv ??= createEventAjv(new Map(), { allErrors: true });
  return sharedMetaSchemaAjv;
}
