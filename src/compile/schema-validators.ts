/**
 * Event-argument validators compiled once per distinct schema. Two arguments whose schemas are the
 * same JSON (in any key order) and reach the same schema files share one ajv validator; a
 * {@link SchemaValidatorCache} that outlives one compile (the guard keeps it in its compile
 * context) also hands a reload the validators of every schema that neither changed nor references
 * a schema file that changed, so editing one event of a big policy recompiles that event alone.
 *
 * A validator compiled by an earlier compile's Ajv keeps working under the next policy: it holds
 * everything it needs (its own code and the referenced schemas that Ajv compiled into it).
 */
import type { Ajv2020 } from "ajv/dist/2020.js";
import type { ValidateFunction } from "ajv";
import { createHash } from "node:crypto";
import { canonicalJson } from "../policy/canonical-json.js";
import type { JsonObject } from "../policy/types.js";

/** What one schema compiles to: its validator, and the property names its author wrote. */
export interface SchemaValidator {
  readonly validate: ValidateFunction;
  readonly namedProperties: ReadonlySet<string>;
  /**
   * Where each schema object the validator was compiled from sits: in the argument's own schema
   * (`file` absent) or in a schema file, by path. A failure names the object (`parentSchema`) of
   * the schema that was compiled, which may be another argument's equal schema, or a previous
   * load's: {@link schemaCounterpart} finds the same place in the schema at hand.
   */
  readonly origins: WeakMap<object, SchemaOrigin>;
}

/** A place in a schema: the schema file (absent: the argument's own schema) and the path inside it. */
export interface SchemaOrigin {
  readonly file?: string;
  readonly path: readonly string[];
}

/**
 * The object of `schema` (or of the schema file in `files`) at the place `compiledObject` has in
 * the schema `validator` was compiled from: what a failure's `parentSchema` means for this argument.
 *
 * @example
 * const object = schemaCounterpart(validator, error.parentSchema, spec, resources.schemas);
 * rules.schemaKeyword(object, error.keyword); // the keyword's position in this argument's schema
 */
export function schemaCounterpart(
  validator: SchemaValidator,
  compiledObject: unknown,
  schema: unknown,
  files: ReadonlyMap<string, JsonObject>,
): unknown {
  if (typeof compiledObject !== "object" || compiledObject === null) return undefined;
  const origin = validator.origins.get(compiledObject);
  if (!origin) return undefined;
  let current: unknown = origin.file === undefined ? schema : files.get(origin.file);
  for (const segment of origin.path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/**
 * Compiled validators by schema (and the schema files it references), kept across compiles.
 *
 * @example
 * const validators = new SchemaValidatorCache();
 * compilePolicy(loaded, { ...context, schemaValidators: validators }); // first load: every schema compiles
 * compilePolicy(edited, { ...context, schemaValidators: validators }); // a reload: only changed ones do
 */
export class SchemaValidatorCache {
  #entries = new Map<string, SchemaValidator>();

  /** Validators held. */
  get size(): number {
    return this.#entries.size;
  }

  /** @internal The validator under `key`, if one was compiled. */
  get(key: string): SchemaValidator | undefined {
    return this.#entries.get(key);
  }

  /** @internal */
  set(key: string, validator: SchemaValidator): void {
    this.#entries.set(key, validator);
  }

  /** Forgets every validator whose key is not in `keys` (those the policy in force uses). */
  retainOnly(keys: ReadonlySet<string>): void {
    for (const key of this.#entries.keys()) if (!keys.has(key)) this.#entries.delete(key);
  }
}

/**
 * One compile's view of the validators: compiles with its own Ajv what the cache lacks, and
 * records the keys it used so the cache can drop the rest once the compile succeeded.
 *
 * @example
 * const validators = new CompileValidators(ajv, resources.schemas, context.schemaValidators);
 * const { validate } = validators.compile(spec);
 * validators.finish(); // the compile succeeded: only what this policy uses stays cached
 */
export class CompileValidators {
  readonly #ajv: Ajv2020;
  readonly #files: ReadonlyMap<string, JsonObject>;
  readonly #cache: SchemaValidatorCache;
  readonly #used = new Set<string>();
  /** Per file URL: the digest of its content and the file URLs its `$ref`s name. */
  readonly #fileFacts = new Map<string, FileFacts>();

  constructor(ajv: Ajv2020, files: ReadonlyMap<string, JsonObject>, cache = new SchemaValidatorCache()) {
    this.#ajv = ajv;
    this.#files = files;
    this.#cache = cache;
  }

  /** The policy's schema files by URL, as this compile's Ajv holds them. */
  get files(): ReadonlyMap<string, JsonObject> {
    return this.#files;
  }

  /**
   * The validator of `schema`, compiled now unless an equal schema over the same files was. Throws
   * what `ajv.compile` throws.
   */
  compile(schema: JsonObject | boolean): SchemaValidator {
    const { key, reached } = this.#keyOf(schema);
    this.#used.add(key);
    let validator = this.#cache.get(key);
    if (!validator) {
      const validate = this.#ajv.compile(schema);
      const origins = new WeakMap<object, SchemaOrigin>();
      indexOrigins(schema, undefined, [], origins);
      for (const url of reached) indexOrigins(this.#files.get(url), url, [], origins);
      validator = Object.freeze({
        validate,
        namedProperties: this.#namedProperties(schema, reached),
        origins,
      });
      this.#cache.set(key, validator);
    }
    return validator;
  }

  /** The compile succeeded: validators the new policy does not use are forgotten. */
  finish(): void {
    this.#cache.retainOnly(this.#used);
  }

  /** The schema's canonical JSON, and each schema file it reaches with the digest of its content. */
  #keyOf(schema: JsonObject | boolean): { readonly key: string; readonly reached: ReadonlySet<string> } {
    const text = canonicalJson(schema);
    const reached = new Set<string>();
    const visit = (url: string): void => {
      if (reached.has(url)) return;
      const facts = this.#factsOf(url);
      if (!facts) return;
      reached.add(url);
      facts.refs.forEach(visit);
    };
    fileRefs(schema).forEach(visit);
    if (reached.size === 0) return { key: text, reached };
    const files = [...reached].sort().map((url) => `${url}=${this.#factsOf(url)!.digest}`);
    return { key: `${text}\n${files.join("\n")}`, reached };
  }

  #factsOf(url: string): FileFacts | undefined {
    let facts = this.#fileFacts.get(url);
    if (!facts) {
      const schema = this.#files.get(url);
      if (!schema) return undefined;
      facts = {
        digest: createHash("sha256").update(canonicalJson(schema)).digest("base64url"),
        refs: fileRefs(schema),
        names: collectPropertyNames(schema, new Set()),
      };
      this.#fileFacts.set(url, facts);
    }
    return facts;
  }

  /**
   * Every property name the author wrote into the schema or into a schema file it reaches: a
   * failure's `instancePath` may echo these, any other key was chosen by the client.
   */
  #namedProperties(schema: JsonObject | boolean, reached: ReadonlySet<string>): ReadonlySet<string> {
    const names = collectPropertyNames(schema, new Set());
    for (const url of reached) for (const name of this.#factsOf(url)!.names) names.add(name);
    return names;
  }
}

interface FileFacts {
  /** The SHA-256 of the file's schema as canonical JSON. */
  readonly digest: string;
  /** The schema files its `$ref`s name. */
  readonly refs: readonly string[];
  /** The property names written in it. */
  readonly names: ReadonlySet<string>;
}

function indexOrigins(
  node: unknown,
  file: string | undefined,
  path: readonly string[],
  origins: WeakMap<object, SchemaOrigin>,
): void {
  if (node === null || typeof node !== "object" || origins.has(node)) return;
  origins.set(node, file === undefined ? { path } : { file, path });
  const entries = Array.isArray(node)
    ? node.map((item, i) => [String(i), item] as const)
    : Object.entries(node);
  for (const [key, value] of entries) indexOrigins(value, file, [...path, key], origins);
}

/** Keywords whose object keys are property names. */
const NAMING_KEYWORDS = new Set(["properties", "dependentRequired", "dependentSchemas"]);

/**
 * Adds to `names` the keys of `properties`, `dependentRequired` and `dependentSchemas`, and the
 * entries of `required` and `dependentRequired`, anywhere in `node`; returns `names`.
 */
function collectPropertyNames(node: unknown, names: Set<string>, seen = new Set<object>()): Set<string> {
  if (node === null || typeof node !== "object" || seen.has(node)) return names;
  seen.add(node);
  if (Array.isArray(node)) {
    for (const item of node) collectPropertyNames(item, names, seen);
    return names;
  }
  for (const [key, value] of Object.entries(node)) {
    if (NAMING_KEYWORDS.has(key) && value !== null && typeof value === "object" && !Array.isArray(value)) {
      for (const [name, inner] of Object.entries(value)) {
        names.add(name);
        if (Array.isArray(inner)) for (const entry of inner) if (typeof entry === "string") names.add(entry);
      }
    }
    if (key === "required" && Array.isArray(value))
      for (const entry of value) if (typeof entry === "string") names.add(entry);
    collectPropertyNames(value, names, seen);
  }
  return names;
}

/** The schema files (by URL, without fragment) that the `$ref`s inside `node` name. */
function fileRefs(node: unknown, found: string[] = [], seen = new Set<object>()): string[] {
  if (node === null || typeof node !== "object" || seen.has(node)) return found;
  seen.add(node);
  if (Array.isArray(node)) {
    for (const item of node) fileRefs(item, found, seen);
    return found;
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === "$ref" && typeof value === "string" && value.startsWith("file:")) {
      const hash = value.indexOf("#");
      found.push(hash === -1 ? value : value.slice(0, hash));
    } else fileRefs(value, found, seen);
  }
  return found;
}
