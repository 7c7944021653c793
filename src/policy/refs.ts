/**
 * `$ref` files of event schemas: a relative path loads a JSON or YAML file beside the referring
 * file, which becomes part of the policy. Each file gets its `file://` URL as `$id`, every relative
 * `$ref` (in the policy's event schemas and in the files) is rewritten to an absolute `file://` URL
 * keeping its `#fragment`, so a fresh Ajv resolves them all without touching the disk again.
 *
 * Nothing is fetched: `http(s):` references are refused. Cycles between files are reported, a
 * missing file is reported at the `$ref` that names it (and still logged, for the watcher), and a
 * `#/pointer` fragment must point at something.
 */
import { fileURLToPath, pathToFileURL } from "node:url";
import type { JsonObject, JsonValue } from "./types.js";
import type { DiagnosticCollector } from "./diagnostic-collector.js";
import type { FileLog } from "./file-log.js";
import { forEachSubschema, isJsonObject } from "./schema-walk.js";
import { childPointer, parsePointer, type SourceLocator } from "./positions.js";
import { readDocument } from "./read-document.js";
import { displayPath } from "./display-path.js";
import type { FileRoot } from "./file-root.js";
import { MAX_REF_CHAIN, MAX_SCHEMA_FILES, type LoadBudget } from "./limits.js";

/** Where a load reads from and what it may spend: the root files stay in, the budget. */
export interface ReadScope {
  readonly root: FileRoot;
  readonly budget: LoadBudget;
  readonly diagnostics: DiagnosticCollector;
  readonly fileLog: FileLog;
}

/** A schema file of the policy, ready for Ajv. */
export interface SchemaFile {
  /** Its `file://` URL, also its `$id`. */
  readonly url: string;
  readonly path: string;
  /** The schema, `$id` set and relative `$ref`s rewritten. */
  readonly schema: JsonObject;
  readonly locator: SourceLocator;
}

/** An event schema inside the policy: where it is, and the value (rewritten in place). */
export interface SchemaSite {
  readonly pointer: string;
  readonly schema: JsonValue;
}

export interface ResolvedSchemas {
  /** Every schema file that loaded, in the order they were found. */
  readonly files: readonly SchemaFile[];
  /** False when a reference could not be followed: compiling would then fail for that reason. */
  readonly complete: boolean;
}

/** Where a `$ref` was written. */
interface RefSite {
  readonly locator: SourceLocator;
  /** Pointer of the `$ref` value. */
  readonly pointer: string;
}

interface FragmentCheck {
  readonly site: RefSite;
  /** The document the fragment is looked up in: a file path, or a schema value (for a local `#/...`). */
  readonly target: { readonly path: string } | { readonly root: JsonValue };
  readonly fragment: string;
  readonly written: string;
}

interface Edge {
  readonly to: string;
  readonly site: RefSite;
}

/**
 * Follows the `$ref`s of `sites` (the policy's event schemas) and of every file they lead to.
 *
 * @example
 * const { files, complete } = await resolveSchemaRefs(sites, policyLocator, policyUrl, baseDir, scope);
 */
export async function resolveSchemaRefs(
  sites: readonly SchemaSite[],
  policyLocator: SourceLocator,
  policyUrl: string,
  baseDir: string,
  scope: ReadScope,
): Promise<ResolvedSchemas> {
  const { diagnostics, fileLog } = scope;
  const display = (path: string): string => displayPath(path, baseDir);
  const pending: string[] = [];
  /** How many files deep each file is found from the policy (the policy's own `$ref`s lead to depth 1). */
  const depths = new Map<string, number>();
  const referrers = new Map<string, RefSite[]>();
  const edges = new Map<string, Edge[]>();
  const fragments: FragmentCheck[] = [];
  let complete = true;

  const fail = (site: RefSite, message: string): void => {
    complete = false;
    diagnostics.report(site.locator, site.pointer, message);
  };

  const collectRefs = (
    root: JsonValue,
    rootPointer: string,
    locator: SourceLocator,
    baseUrl: string,
    from?: string,
  ): void => {
    forEachSubschema(root, rootPointer, (subschema, pointer) => {
      const written = subschema.$ref;
      if (typeof written !== "string") return;
      const site: RefSite = { locator, pointer: childPointer(pointer, "$ref") };
      if (written.startsWith("#")) {
        fragments.push({
          site,
          target: from === undefined ? { root } : { path: from },
          fragment: written,
          written,
        });
        return;
      }
      const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(written)?.[1]?.toLowerCase();
      if (scheme === "http" || scheme === "https") {
        fail(
          site,
          `a $ref to ${scheme}: is never fetched; save the schema beside the policy and refer to it by a relative path`,
        );
        return;
      }
      if (scheme === "file" || written.startsWith("/") || written.startsWith("\\")) {
        fail(site, "a $ref to a file is a path relative to the file it is written in");
        return;
      }
      if (scheme !== undefined) return; // urn: and the like name a schema by its $id; Ajv resolves them.
      let hash: string;
      let path: string;
      try {
        const target = new URL(written, baseUrl);
        hash = target.hash;
        target.hash = "";
        // Throws a URIError for a malformed percent-escape (`%zz`) or an encoded NUL or slash.
        path = fileURLToPath(target);
        decodeURIComponent(hash);
      } catch {
        fail(site, `$ref "${written}" is not a valid relative path (a % starts an escape such as %20)`);
        return;
      }
      const url = pathToFileURL(path).href;
      subschema.$ref = url + hash;
      if (!referrers.has(path)) {
        const depth = (from === undefined ? 0 : (depths.get(from) ?? 0)) + 1;
        if (depth > MAX_REF_CHAIN) {
          fail(site, `$ref chain is longer than ${MAX_REF_CHAIN} files, the limit`);
          return;
        }
        depths.set(path, depth);
        referrers.set(path, []);
        pending.push(path);
      }
      referrers.get(path)!.push(site);
      if (from !== undefined) {
        if (!edges.has(from)) edges.set(from, []);
        edges.get(from)!.push({ to: path, site });
      }
      if (hash.length > 1) fragments.push({ site, target: { path }, fragment: hash, written });
    });
  };

  for (const site of sites) collectRefs(site.schema, site.pointer, policyLocator, policyUrl);

  const loaded = new Map<string, SchemaFile>();
  for (let index = 0; index < pending.length; index += 1) {
    const path = pending[index]!;
    if (index >= MAX_SCHEMA_FILES) {
      for (const site of referrers.get(path)!)
        fail(site, `a policy may use at most ${MAX_SCHEMA_FILES} schema files`);
      continue;
    }
    const admitted = await scope.root.admit(path);
    if (!admitted.ok) {
      for (const site of referrers.get(path)!) fail(site, `$ref to ${display(path)}: ${admitted.problem}`);
      continue;
    }
    const read = await readDocument(path, diagnostics, fileLog, scope.budget, admitted.open);
    if (read.kind === "unreadable") {
      for (const site of referrers.get(path)!)
        fail(site, `cannot read schema file ${display(path)}: ${read.problem}`);
      continue;
    }
    if (read.value === undefined || !read.locator) {
      complete = false;
      continue;
    }
    if (!isJsonObject(read.value)) {
      complete = false;
      diagnostics.report(read.locator, "", "a schema file holds a JSON Schema object");
      continue;
    }
    const url = pathToFileURL(path).href;
    const schema: JsonObject = { ...read.value, $id: url };
    loaded.set(path, { url, path, schema, locator: read.locator });
    collectRefs(schema, "", read.locator, url, path);
  }

  for (const check of fragments) {
    const root = "root" in check.target ? check.target.root : loaded.get(check.target.path)?.schema;
    if (root === undefined || !check.fragment.startsWith("#/")) continue;
    if (resolveFragment(root, check.fragment) === undefined) {
      const where = "path" in check.target ? display(check.target.path) : "this schema";
      fail(check.site, `$ref "${check.written}": ${where} has nothing at ${check.fragment}`);
    }
  }

  for (const cycle of findCycles(edges)) {
    fail(cycle.site, `$ref cycle: ${cycle.paths.map(display).join(" → ")}`);
  }

  return { files: [...loaded.values()], complete };
}

/** The value a `#/json/pointer` fragment names inside `root`, or `undefined`. */
function resolveFragment(root: JsonValue, fragment: string): JsonValue | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(fragment.slice(1));
  } catch {
    return undefined;
  }
  const segments = parsePointer(decoded);
  if (!segments) return undefined;
  let current: JsonValue | undefined = root;
  for (const segment of segments) {
    if (Array.isArray(current))
      current = /^(0|[1-9]\d*)$/.test(segment) ? current[Number(segment)] : undefined;
    else if (isJsonObject(current)) current = Object.hasOwn(current, segment) ? current[segment] : undefined;
    else return undefined;
    if (current === undefined) return undefined;
  }
  return current;
}

/**
 * Cycles among schema files, each reported once at the `$ref` that closes it. Depth-first search
 * with an explicit stack.
 */
function findCycles(edges: ReadonlyMap<string, readonly Edge[]>): { site: RefSite; paths: string[] }[] {
  const cycles: { site: RefSite; paths: string[] }[] = [];
  const state = new Map<string, "active" | "done">();
  for (const start of edges.keys()) {
    if (state.has(start)) continue;
    const path: string[] = [start];
    const stack: { node: string; next: number }[] = [{ node: start, next: 0 }];
    state.set(start, "active");
    while (stack.length > 0) {
      const frame = stack.at(-1)!;
      const edge = edges.get(frame.node)?.[frame.next];
      if (!edge) {
        state.set(frame.node, "done");
        stack.pop();
        path.pop();
        continue;
      }
      frame.next += 1;
      const seen = state.get(edge.to);
      if (seen === "active") {
        cycles.push({ site: edge.site, paths: [...path.slice(path.indexOf(edge.to)), edge.to] });
      } else if (seen === undefined) {
        state.set(edge.to, "active");
        path.push(edge.to);
        stack.push({ node: edge.to, next: 0 });
      }
    }
  }
  return cycles;
}
