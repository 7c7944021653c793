/**
 * Mutations of the example policies for property tests of the loader: edits of the document
 * (deleted, duplicated, renamed and retyped keys, unknown keys, deep nesting, huge numbers,
 * unicode, environment placeholders, broken and recursive `$ref`s) and of its text (anchors,
 * aliases, merge keys, tags, truncation at any byte, NUL, BOM). Each case is a small set of files.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";

const POLICIES = new URL("../../../policies/", import.meta.url);

/** The example policies and the schema files they refer to, as text. */
export const EXAMPLES = {
  "chat.yaml": readFileSync(new URL("chat.yaml", POLICIES), "utf8"),
  "minimal.yaml": readFileSync(new URL("minimal.yaml", POLICIES), "utf8"),
} as const;
export const EXAMPLE_SCHEMAS: Readonly<Record<string, string>> = {
  "schemas/message.json": readFileSync(new URL("schemas/message.json", POLICIES), "utf8"),
};

/** One generated input: the policy text and the files beside it (relative path → content). */
export interface LoaderCase {
  readonly policy: string | Buffer;
  readonly files: Readonly<Record<string, string>>;
  /** True when the mutation added a key no strict map of the language knows: the load must fail. */
  readonly unknownKey: boolean;
  /** What was done, for the failure report. */
  readonly label: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Maps of the language where every key is a keyword, so an invented key is always an error. */
const STRICT_PATHS: readonly (readonly string[])[] = [
  [],
  ["connection"],
  ["auth"],
  ["auth", "issuers", "demo"],
  ["namespaces", "/chat"],
  ["namespaces", "/chat", "events", "message"],
  ["namespaces", "/"],
  ["namespaces", "/", "events", "ping"],
];

const key = fc.oneof(
  fc.constantFrom("version", "namespaces", "events", "schema", "args", "$ref", "auth", "require", "<<"),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 8 }),
);

const scalar: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, -1, 1e308, -1e308, 2 ** 53 + 1, 1.5, "", "none", "required"),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom<Json>(
    "${env:SG_FUZZ_SET}",
    "${env:SG_FUZZ_UNSET}",
    "${env:SG_FUZZ_UNSET:-fallback}",
    "${env:",
    "$${env:SG_FUZZ_SET}",
    "${env:1bad}",
    "\u202e\u0000\ud800",
    "10MB",
    "0/1m",
    "99999999999999999999h",
  ),
  fc.double(),
  fc.integer(),
);

const value: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(key, tie("value"), { maxKeys: 4 }),
    fc.constantFrom<Json>(
      { $ref: "schemas/message.json" },
      { $ref: "schemas/missing.json" },
      { $ref: "schemas/%zz.json" },
      { $ref: "../../../../../proc/self/status" },
      { $ref: "/etc/passwd" },
      { $ref: "https://example.com/s.json" },
      { $ref: "loop-a.json" },
      { $ref: "#/nowhere" },
      { $ref: "schemas/message.json#/properties/nothing" },
    ),
  ),
})).value;

/** A value nested `depth` levels (maps or lists). */
function nested(depth: number, asList: boolean): Json {
  let current: Json = "x";
  for (let level = 0; level < depth; level += 1) current = asList ? [current] : { k: current };
  return current;
}

type DocumentEdit = (document: { [key: string]: Json }) => boolean;
interface LabelledEdit {
  readonly edit: DocumentEdit;
  readonly label: string;
  /** Applied after the others, so that no later edit removes what it added. */
  readonly last?: boolean;
}

/** A path to some value in `document`, chosen by `picks` (each an index into the keys seen). */
function pathIn(document: Json, picks: readonly number[]): (string | number)[] {
  const path: (string | number)[] = [];
  let current: Json = document;
  for (const pick of picks) {
    if (Array.isArray(current) && current.length > 0) {
      const index = pick % current.length;
      path.push(index);
      current = current[index]!;
    } else if (current !== null && typeof current === "object" && !Array.isArray(current)) {
      const keys = Object.keys(current);
      if (keys.length === 0) break;
      const name = keys[pick % keys.length]!;
      path.push(name);
      current = current[name]!;
    } else break;
  }
  return path;
}

function parentOf(document: Json, path: readonly (string | number)[]): Json | undefined {
  let current: Json | undefined = document;
  for (const segment of path.slice(0, -1)) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, Json>)[segment];
  }
  return current;
}

type Container = Json[] | { [key: string]: Json };

/** The container holding the value `chosen` picks, and its key there; `undefined` at the root. */
function slotAt(
  document: Json,
  chosen: readonly number[],
): { parent: Container; last: string | number } | undefined {
  const path = pathIn(document, chosen);
  const parent = parentOf(document, path);
  const last = path.at(-1);
  if (parent === undefined || last === undefined || parent === null || typeof parent !== "object")
    return undefined;
  return { parent, last };
}

const picks = fc.array(fc.nat(), { minLength: 1, maxLength: 7 });

const documentEdit: fc.Arbitrary<LabelledEdit> = fc.oneof(
  picks.map((chosen) => ({
    label: `delete ${chosen.join(".")}`,
    edit: (document: { [key: string]: Json }) => {
      const slot = slotAt(document, chosen);
      if (!slot) return false;
      if (Array.isArray(slot.parent)) slot.parent.splice(Number(slot.last), 1);
      else Reflect.deleteProperty(slot.parent, String(slot.last));
      return false;
    },
  })),
  fc.tuple(picks, value).map(([chosen, replacement]) => ({
    label: `retype ${chosen.join(".")} as ${JSON.stringify(replacement).slice(0, 60)}`,
    edit: (document: { [key: string]: Json }) => {
      const slot = slotAt(document, chosen);
      if (!slot) return false;
      // A copy: generated values are shared between cases, and later edits change what they touch.
      (slot.parent as Record<string | number, Json>)[slot.last] = structuredClone(replacement);
      return false;
    },
  })),
  fc.tuple(picks, key).map(([chosen, name]) => ({
    label: `rename ${chosen.join(".")} to ${JSON.stringify(name)}`,
    edit: (document: { [key: string]: Json }) => {
      const slot = slotAt(document, chosen);
      if (!slot || typeof slot.last !== "string" || Array.isArray(slot.parent)) return false;
      const moved = slot.parent[slot.last]!;
      Reflect.deleteProperty(slot.parent, slot.last);
      slot.parent[name] = moved;
      return false;
    },
  })),
  fc.tuple(fc.nat(), fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,10}$/), value).map(([which, suffix, added]) => ({
    last: true,
    label: `unknown key xx${suffix} at ${STRICT_PATHS[which % STRICT_PATHS.length]!.join(".")}`,
    edit: (document: { [key: string]: Json }) => {
      let target: Json | undefined = document;
      for (const segment of STRICT_PATHS[which % STRICT_PATHS.length]!) {
        target =
          target !== null && typeof target === "object" && !Array.isArray(target)
            ? target[segment]
            : undefined;
      }
      if (target === null || typeof target !== "object" || Array.isArray(target) || target === undefined)
        return false;
      target[`xx${suffix}`] = structuredClone(added);
      return true;
    },
  })),
  fc.tuple(picks, fc.integer({ min: 1, max: 120 }), fc.boolean()).map(([chosen, depth, asList]) => ({
    label: `nest ${depth} ${asList ? "lists" : "maps"} at ${chosen.join(".")}`,
    edit: (document: { [key: string]: Json }) => {
      const slot = slotAt(document, chosen);
      if (!slot) return false;
      (slot.parent as Record<string | number, Json>)[slot.last] = nested(depth, asList);
      return false;
    },
  })),
);

/** Text edits: each turns the YAML text into other text (or bytes). */
const textEdit: fc.Arbitrary<{ apply: (text: string) => string | Buffer; label: string }> = fc.oneof(
  fc.nat().map((at) => ({
    label: `truncate at byte ${at}`,
    apply: (text: string) => {
      const bytes = Buffer.from(text);
      return bytes.subarray(0, at % (bytes.length + 1));
    },
  })),
  fc.nat().map((at) => ({
    label: `NUL at ${at}`,
    apply: (text: string) => {
      const index = at % (text.length + 1);
      return text.slice(0, index) + "\u0000" + text.slice(index);
    },
  })),
  fc.constant({ label: "BOM", apply: (text: string) => "\uFEFF" + text }),
  fc.tuple(fc.nat(), fc.string({ unit: "binary", maxLength: 8 })).map(([at, inserted]) => ({
    label: `insert ${JSON.stringify(inserted)} at ${at}`,
    apply: (text: string) => {
      const index = at % (text.length + 1);
      return text.slice(0, index) + inserted + text.slice(index);
    },
  })),
  fc.nat().map((at) => ({
    label: `duplicate line ${at}`,
    apply: (text: string) => {
      const lines = text.split("\n");
      const index = at % lines.length;
      lines.splice(index, 0, lines[index]!);
      return lines.join("\n");
    },
  })),
  fc
    .constantFrom(
      "x-anchor: &a { auth: none, events: {} }\n",
      "x-secret: &s ${env:SG_FUZZ_SET}\n",
      "x-tag: !!binary aGVsbG8=\n",
      "x-tag2: !custom { a: 1 }\n",
      "x-merge: { <<: [*a] }\n",
      "%YAML 1.1\n---\n",
      "---\nsecond: document\n",
      "x-big: 1e999999\n",
      "x-alias-key: { *a : 1 }\n",
      "? [complex, key]\n: value\n",
    )
    .map((line) => ({ label: `prepend ${JSON.stringify(line)}`, apply: (text: string) => line + text })),
  fc.nat().map((at) => ({
    label: `alias the secret at line ${at}`,
    apply: (text: string) => {
      const lines = ("x-secret: &s ${env:SG_FUZZ_SET}\n" + text).split("\n");
      const index = 1 + (at % (lines.length - 1));
      lines[index] = lines[index]!.replace(/: .*$/, ": *s");
      return lines.join("\n");
    },
  })),
);

/** Schema files beside the policy: the examples', plus a pair that refer to each other. */
const SCHEMA_FILES: Readonly<Record<string, string>> = {
  ...EXAMPLE_SCHEMAS,
  "loop-a.json": '{ "$ref": "loop-b.json" }',
  "loop-b.json": '{ "$ref": "loop-a.json" }',
};

/** Generated loader inputs: an example policy, then up to three edits of its document or text. */
export const loaderCase: fc.Arbitrary<LoaderCase> = fc
  .tuple(
    fc.constantFrom(...(Object.keys(EXAMPLES) as (keyof typeof EXAMPLES)[])),
    fc.array(documentEdit, { maxLength: 3 }),
    fc.option(textEdit, { freq: 2 }),
  )
  .map(([name, edits, text]) => {
    const document = parse(EXAMPLES[name]) as { [key: string]: Json };
    let unknownKey = false;
    const ordered = [...edits.filter((edit) => !edit.last), ...edits.filter((edit) => edit.last)];
    for (const { edit } of ordered) unknownKey = edit(document) || unknownKey;
    const written = edits.length === 0 ? EXAMPLES[name] : stringify(document);
    const policy = text ? text.apply(written) : written;
    const labels = [name, ...ordered.map((edit) => edit.label), ...(text ? [text.label] : [])];
    // A text edit can remove or hide what the document edit added; only then is no verdict implied.
    return { policy, files: SCHEMA_FILES, unknownKey: unknownKey && !text, label: labels.join(" | ") };
  });

/** The environment loader cases run with: one variable set (to a value that must never be printed). */
export const FUZZ_ENV = { SG_FUZZ_SET: "fuzz-secret-value-4f1d9a" } as const;

/** Where a case's files are written, relative to its directory. */
export function casePaths(dir: string): { policy: string } {
  return { policy: join(dir, "policy.yaml") };
}
