import type { Diagnostic } from "./diagnostic.js";
import type { SourceLocator } from "./positions.js";
import type { JsonObject, Policy } from "./types.js";

/**
 * Everything a policy refers to besides itself, read once by the loader so that compiling never
 * touches the disk again: what was checked is exactly what gets compiled.
 */
export interface PolicyResources {
  /**
   * Schema files referenced with `$ref`, keyed by their `file://` URL, which is also their `$id`.
   * Relative `$ref`s inside these schemas and inside the policy's event schemas have been
   * rewritten to absolute `file://` URLs (keeping any `#fragment`), so they resolve in a fresh Ajv
   * once every entry here is added with `ajv.addSchema(schema)`.
   */
  readonly schemas: ReadonlyMap<string, JsonObject>;
  /**
   * Contents of key files, keyed by the absolute path they resolve to: issuers' `jwksFile` and
   * `publicKeyFile`, and `connection.tls`'s `certFile`, `keyFile` and `caFile`.
   */
  readonly keyFiles: ReadonlyMap<string, string>;
  /** The directory relative paths in the policy resolve against (the policy file's, or the cwd for an object). */
  readonly baseDir: string;
  /**
   * Where things are written: the policy's own locator and one per schema file (by its `file://`
   * URL), so compile can name the policy key behind each check. Absent for resources built by hand.
   */
  readonly locators?: PolicyLocators;
}

/** Locators of the files of one policy. */
export interface PolicyLocators {
  readonly policy: SourceLocator;
  /** By `file://` URL, the same keys as {@link PolicyResources.schemas}. */
  readonly schemaFiles: ReadonlyMap<string, SourceLocator>;
}

/**
 * The result of loading a policy. `policy` and `resources` are present only when `diagnostics`
 * holds no error.
 */
export interface PolicyLoadResult {
  /** The checked document, `${env:...}` expanded, event-schema `$ref`s rewritten (see {@link PolicyResources}). */
  readonly policy?: Policy;
  readonly resources?: PolicyResources;
  /** Errors and warnings, in file order. */
  readonly diagnostics: readonly Diagnostic[];
  /**
   * Absolute paths of every file read, or looked for and missing (so a watcher can wait for it):
   * the policy file first, then referenced schema and key files.
   */
  readonly files: readonly string[];
  /** A hash (hex sha256) over the paths and contents of `files`; equal versions mean equal inputs. */
  readonly version: string;
  /**
   * Takes every value the policy read from the environment out of `text` (a path in `files` may
   * hold one): what prints `files` passes them through it. The diagnostics already are.
   */
  readonly redact?: (text: string) => string;
}
