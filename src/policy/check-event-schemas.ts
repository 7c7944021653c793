/**
 * Checks every event schema (inline in the policy, and each schema file) the way the guard will
 * compile it: JSON Schema 2020-12 in Ajv's strict mode. Problems are found first by walking the
 * schemas, so each points at its own key or value (in the policy, or inside the schema file); then
 * the schemas are compiled with {@link createEventAjv}, the compiler's own Ajv, so nothing that
 * passes here can fail to compile later. A schema written many times (equal JSON, in any key
 * order) is checked against the meta-schema and compiled once; each place it is written still gets
 * its own diagnostics.
 */
import type { ErrorObject } from "ajv";
import type { JsonObject, JsonValue } from "./types.js";
import type { Report } from "./diagnostic-collector.js";
import { createEventAjv, metaSchemaAjv } from "./ajv.js";
import { canonicalJson } from "./canonical-json.js";
import { closestName } from "./closest-name.js";
import { forEachSubschema, isJsonObject } from "./schema-walk.js";
import { childPointer, describePointer } from "./positions.js";
import type { SchemaFile, SchemaSite } from "./refs.js";
import { namesSchemaResources, type LintOutcome, type LintReport, type LoadCacheView } from "./load-cache.js";

/** The `$schema` values accepted: the 2020-12 meta-schema, the only draft compiled. */
const DRAFT_2020_12 = new Set([
  "https://json-schema.org/draft/2020-12/schema",
  "https://json-schema.org/draft/2020-12/schema#",
]);

export interface EventSchemaInput {
  /** The policy's event schemas (binary arguments left out), with their reporter. */
  readonly sites: readonly SchemaSite[];
  readonly report: Report;
  /** The schema files, each with its own reporter. */
  readonly files: readonly { readonly file: SchemaFile; readonly report: Report }[];
  /** False when a `$ref` could not be followed: compiling is then skipped (it would only repeat that). */
  readonly refsComplete: boolean;
  /** Shows a `file://` URL in a message (relative to the policy's directory). */
  readonly displayUrl: (url: string) => string;
  /** What earlier loads of this policy found (a reloader's {@link PolicyLoadCache}), if kept. */
  readonly cache?: LoadCacheView;
}

/**
 * @example
 * checkEventSchemas({ sites, report, files, refsComplete: true, displayUrl });
 */
export function checkEventSchemas(input: EventSchemaInput): void {
  const metaAjv = metaSchemaAjv();
  const keywords = new Set(Object.keys(metaAjv.RULES.keywords));
  const formats = Object.keys(metaAjv.formats);
  const metaErrorsByText = new Map<string, ErrorObject[]>();
  const metaErrors = (schema: JsonValue): ErrorObject[] => {
    const text = canonicalJson(schema);
    let errors = metaErrorsByText.get(text);
    if (!errors) {
      errors = validateAgainstMeta(metaAjv, schema);
      metaErrorsByText.set(text, errors);
    }
    return errors;
  };
  const lintAt = (schema: JsonValue, pointer: string, report: Report): boolean =>
    lintSchema(schema, pointer, report, metaErrors, keywords, formats);
  const cache = input.cache;
  // With a cache, a schema is linted at its root and its problems replayed at its place: every
  // pointer a lint reports is the schema's own pointer followed by one relative to the schema.
  // A lint that found meta-schema errors is not kept: those are shared by equal schemas written in
  // another key order, and their order is the first one's of the load.
  const lint = !cache
    ? lintAt
    : (schema: JsonValue, pointer: string, report: Report): boolean => {
        const outcome = cache.lint(JSON.stringify(schema), () => {
          const recorded = recordLint(schema, lintAt);
          return { outcome: recorded, keep: metaErrors(schema).length === 0 };
        });
        for (const problem of outcome.reports) {
          report(pointer + problem.pointer, problem.message, problem.options);
        }
        return outcome.clean;
      };

  let clean = true;
  for (const { file, report } of input.files) clean = lint(file.schema, "", report) && clean;
  for (const site of input.sites) clean = lint(site.schema, site.pointer, input.report) && clean;
  if (!clean || !input.refsComplete) return;

  const byUrl = new Map(input.files.map((entry) => [entry.file.url, entry]));
  let made: ReturnType<typeof createEventAjv> | undefined;
  // Every schema passed the meta-schema above, so compiling need not check it again.
  const ajv = (): ReturnType<typeof createEventAjv> =>
    (made ??= createEventAjv(new Map(input.files.map(({ file }) => [file.url, file.schema])), {
      allErrors: true,
      validateSchema: false,
    }));
  const filesKey = JSON.stringify(input.files.map(({ file }) => [file.url, file.schema]));
  const texts = input.sites.map((site) => canonicalJson(site.schema));
  const known = cache && !texts.some(namesSchemaResources) ? cache.compiledWith(filesKey) : undefined;
  if (!known) {
    try {
      ajv();
    } catch (error) {
      const first = input.files[0];
      if (first) first.report("", `the schema files do not load together: ${compileProblem(error).message}`);
      return;
    }
  }
  const compileFailed = (error: unknown, report: Report, pointer: string): void => {
    const problem = compileProblem(error);
    const owner = problem.url !== undefined ? byUrl.get(problem.url) : undefined;
    const target = owner ? owner.report : report;
    const base = owner ? "" : pointer;
    const message =
      problem.missingRef !== undefined
        ? `cannot resolve $ref ${input.displayUrl(problem.missingRef)}`
        : problem.message;
    target(
      problem.keyword !== undefined
        ? childPointer(base + problem.pointer, problem.keyword)
        : base + problem.pointer,
      message,
      {
        target: problem.keyword !== undefined ? "key" : "value",
      },
    );
  };
  // What `getSchema` threw for each file (`null`: it compiled).
  const compileFiles = (): unknown[] =>
    input.files.map(({ file }) => {
      try {
        ajv().getSchema(file.url);
        return null;
      } catch (error) {
        return error;
      }
    });
  let fileFailures = known?.fileFailures;
  fileFailures ??= compileFiles();
  fileFailures.forEach((failure, index) => {
    if (failure !== null) compileFailed(failure, input.files[index]!.report, "");
  });
  // Per distinct schema: what compiling it threw (`null`: it compiled).
  const compiled = new Map<string, unknown>();
  input.sites.forEach((site, index) => {
    const text = texts[index]!;
    if (!compiled.has(text)) {
      const earlier = known?.schemas.get(text);
      if (earlier !== undefined) compiled.set(text, earlier);
      else {
        // A file that failed to compile may fail differently when a schema reaches it first.
        if (made === undefined && known?.fileFailures.some((failure) => failure !== null)) compileFiles();
        try {
          ajv().compile(site.schema as JsonObject | boolean);
          compiled.set(text, null);
        } catch (error) {
          compiled.set(text, error);
        }
      }
    }
    const failure = compiled.get(text);
    if (failure !== null) compileFailed(failure, input.report, site.pointer);
  });
  cache?.recordCompiles({ filesKey, fileFailures, schemas: compiled });
}

/** Lints `schema` at its root, recording what it reports instead of reporting it. */
function recordLint(
  schema: JsonValue,
  lintAt: (schema: JsonValue, pointer: string, report: Report) => boolean,
): LintOutcome {
  const reports: LintReport[] = [];
  const clean = lintAt(schema, "", (pointer, message, options) => {
    reports.push(options === undefined ? { pointer, message } : { pointer, message, options });
  });
  return { reports, clean };
}

/** Meta-schema errors, grouped so that one mistake is one message. */
function validateAgainstMeta(ajv: ReturnType<typeof createEventAjv>, schema: JsonValue): ErrorObject[] {
  try {
    return ajv.validateSchema(schema as JsonObject) ? [] : [...(ajv.errors ?? [])];
  } catch {
    return [];
  }
}

/** Reports what is wrong with one schema; true when nothing is (warnings aside). */
function lintSchema(
  schema: JsonValue,
  rootPointer: string,
  report: Report,
  metaErrors: (schema: JsonValue) => ErrorObject[],
  keywords: ReadonlySet<string>,
  formats: readonly string[],
): boolean {
  let clean = true;
  const error: Report = (pointer, message, options) => {
    clean = false;
    report(pointer, message, options);
  };
  if (typeof schema === "boolean") return true;
  if (!isJsonObject(schema)) {
    error(rootPointer, "a schema is a JSON Schema object (or true, or false)");
    return false;
  }
  const declared = schema.$schema;
  if (declared !== undefined && !(typeof declared === "string" && DRAFT_2020_12.has(declared))) {
    error(
      childPointer(rootPointer, "$schema"),
      "event schemas are JSON Schema 2020-12: $schema must be https://json-schema.org/draft/2020-12/schema",
    );
    return false;
  }

  const seen = new Set<string>();
  for (const failure of metaErrors(schema)) {
    if (failure.keyword === "anyOf" || failure.keyword === "oneOf" || failure.keyword === "if") continue;
    if (seen.has(failure.instancePath)) continue;
    seen.add(failure.instancePath);
    error(rootPointer + failure.instancePath, describeMetaError(failure));
  }

  forEachSubschema(schema, rootPointer, (subschema, pointer) => {
    for (const key of Object.keys(subschema)) {
      if (keywords.has(key)) continue;
      const suggestion = closestName(key, keywords);
      const hint = suggestion
        ? ` (did you mean "${suggestion}"?)`
        : key === "binary"
          ? " (a binary argument is { binary: { maxBytes } } on its own)"
          : "";
      error(
        childPointer(pointer, key),
        `unknown keyword "${key}"${hint}; strict mode refuses keywords it does not know`,
        { target: "key" },
      );
    }
    const format = subschema.format;
    if (typeof format === "string" && !formats.includes(format)) {
      const suggestion = closestName(format, formats);
      error(
        childPointer(pointer, "format"),
        `unknown format "${format}"${suggestion ? ` (did you mean "${suggestion}"?)` : ""}`,
      );
    }
    const pattern = subschema.pattern;
    if (typeof pattern === "string") {
      if (!isValidPattern(pattern)) {
        error(
          childPointer(pointer, "pattern"),
          "pattern is not a valid regular expression (JavaScript, Unicode mode)",
        );
      } else if (subschema.maxLength === undefined) {
        report(
          childPointer(pointer, "pattern"),
          "pattern without maxLength: a long string can make a regular expression slow (ReDoS); add maxLength",
          { severity: "warning", target: "key" },
        );
      }
    }
    const patternProperties = subschema.patternProperties;
    if (isJsonObject(patternProperties)) {
      for (const key of Object.keys(patternProperties)) {
        if (!isValidPattern(key)) {
          error(
            childPointer(pointer, "patternProperties", key),
            "this key is not a valid regular expression (JavaScript, Unicode mode)",
            {
              target: "key",
            },
          );
        }
      }
    }
  });
  return clean;
}

function isValidPattern(pattern: string): boolean {
  try {
    new RegExp(pattern, "u");
    return true;
  } catch {
    return false;
  }
}

const META_TYPE_MESSAGE =
  '"type" must be one of string, number, integer, boolean, object, array, null (or a list of them)';

function describeMetaError(error: ErrorObject): string {
  const label = describePointer(error.instancePath, "the schema");
  if (/\/type$/.test(error.instancePath)) return META_TYPE_MESSAGE;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "type":
      return `${label} must be ${String(params.type).replaceAll(",", " or ")}`;
    case "enum":
      return `${label} must be one of: ${(params.allowedValues as unknown[]).map(String).join(", ")}`;
    default:
      return `${label} ${error.message ?? "is not valid"}`;
  }
}

interface CompileProblem {
  readonly message: string;
  /** The schema file the problem is in, when Ajv names one. */
  readonly url?: string;
  /** Where inside that schema (or the schema being compiled). */
  readonly pointer: string;
  /** The keyword to point at, when the problem is one keyword's. */
  readonly keyword?: string;
  readonly missingRef?: string;
}

/** Ajv's compile errors name their place as `at "URL#/pointer"`; the message is made short and specific. */
function compileProblem(error: unknown): CompileProblem {
  const raw = error instanceof Error ? error.message : String(error);
  const missingRef = (error as { missingRef?: unknown } | undefined)?.missingRef;
  // Ajv writes the place as the schema's base id followed by the path it compiled, which may itself
  // be the URL of a referenced file ("file:///a.jsonfile:///b.json#/properties"): the last URL wins.
  const written = / at (?:path )?"([^"]*)"/.exec(raw)?.[1] ?? "";
  const place = written.lastIndexOf("file:") > 0 ? written.slice(written.lastIndexOf("file:")) : written;
  const hashAt = place.indexOf("#");
  const url = place.startsWith("file:") ? (hashAt === -1 ? place : place.slice(0, hashAt)) : undefined;
  let pointer = hashAt === -1 ? "" : place.slice(hashAt + 1);
  try {
    pointer = decodeURIComponent(pointer);
  } catch {
    pointer = "";
  }
  const text = raw
    .replace(/^strict mode: /, "")
    .replace(/ at (?:path )?"[^"]*"/, "")
    .replace(/ \(strict\w+\)$/, "");

  const missingType = /^missing type "(\w+)" for keyword "([\w$]+)"/.exec(text);
  if (missingType) {
    return {
      url,
      pointer,
      keyword: missingType[2],
      message: `"${missingType[2]}" needs type: ${missingType[1]} beside it (strict mode)`,
    };
  }
  const undefinedRequired = /^required property "(.+)" is not defined/.exec(text);
  if (undefinedRequired) {
    return {
      url,
      pointer,
      keyword: "required",
      message: `required lists "${undefinedRequired[1]}", which properties does not define (strict mode)`,
    };
  }
  if (typeof missingRef === "string") return { url, pointer, missingRef, message: text };
  return { url, pointer, message: `the schema does not compile: ${text}` };
}
