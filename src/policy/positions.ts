/**
 * Where a value lives in a file: JSON Pointers into a document, and the locators that turn a pointer
 * into the 1-based line and column of the YAML node it names.
 */
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Document,
  type Node,
  type Pair,
  type YAMLMap,
} from "yaml";

/** A 1-based position; `{ line: 0, col: 0 }` when the source has no text (a policy given as an object). */
export interface Position {
  readonly line: number;
  readonly col: number;
}

/** What a pointer locates: the value itself, or the key that names it in its parent map. */
export type LocateTarget = "key" | "value";

/**
 * Turns JSON Pointers into positions in one file. A pointer that goes further than the document
 * (through an alias, or into a value the loader created) resolves to the deepest node it reaches.
 */
export interface SourceLocator {
  /** Absolute path of the file, or `"<policy object>"`. */
  readonly file: string;
  locate(pointer: string, target?: LocateTarget): Position;
  /** The position of a character offset in the file's text. */
  positionAt(offset: number): Position;
}

/** Escapes one JSON Pointer segment (RFC 6901): `~` → `~0`, `/` → `~1`. */
export function escapePointerSegment(segment: string | number): string {
  const text = String(segment);
  // Most segments need no escape; a big policy builds tens of thousands of pointers per load.
  if (!text.includes("~") && !text.includes("/")) return text;
  return text.replaceAll("~", "~0").replaceAll("/", "~1");
}

/** Appends segments to a pointer: `childPointer("/auth", "issuers", "idp")` → `/auth/issuers/idp`. */
export function childPointer(pointer: string, ...segments: (string | number)[]): string {
  let result = pointer;
  for (const segment of segments) result += "/" + escapePointerSegment(segment);
  return result;
}

/** The segments of a JSON Pointer; `undefined` for text that is not one. */
export function parsePointer(pointer: string): string[] | undefined {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) return undefined;
  if (!pointer.includes("~")) return pointer.slice(1).split("/");
  if (/~[^01]|~$/.test(pointer)) return undefined;
  return pointer
    .slice(1)
    .split("/")
    .map((segment) => segment.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/**
 * A readable name for a pointer, for messages: `/auth/issuers/idp/audience` → `auth.issuers.idp.audience`,
 * `/connection/transports/0` → `connection.transports[0]`, `/namespaces/~1chat` → `namespaces["/chat"]`.
 */
export function describePointer(pointer: string, root = "the document"): string {
  const segments = parsePointer(pointer);
  if (!segments || segments.length === 0) return root;
  let text = "";
  for (const segment of segments) {
    if (/^(0|[1-9]\d*)$/.test(segment)) text += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) text += text === "" ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment.length > 80 ? segment.slice(0, 80) + "…" : segment)}]`;
  }
  return text;
}

/** A locator for a value that has no source text: every position is `0:0`, the pointer locates it. */
export function objectLocator(file: string): SourceLocator {
  const nowhere: Position = { line: 0, col: 0 };
  return { file, locate: () => nowhere, positionAt: () => nowhere };
}

/**
 * The position of an offset in `text`, always inside the file: an offset past the end (where a
 * parser reports "unexpected end") is the last character, and a column never goes past its line's
 * last character (an empty line has column 1). A file without text is 1:1.
 *
 * @example
 * textPosition("a: 1\nb: [\n", 99); // { line: 2, col: 4 }
 */
export function textPosition(
  text: string,
  offset: number,
  starts: readonly number[] = lineStarts(text),
): Position {
  if (text.length === 0) return { line: 1, col: 1 };
  const at = Math.min(Math.max(0, Math.trunc(offset) || 0), text.length - 1);
  // The last line start at or before `at` (binary search: a 1 MiB file has many lines).
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle]! <= at) low = middle;
    else high = middle - 1;
  }
  const start = starts[low]!;
  let end = low + 1 < starts.length ? starts[low + 1]! - 1 : text.length;
  if (end === text.length && text.endsWith("\n")) end -= 1;
  if (end > start && text[end - 1] === "\r") end -= 1;
  return { line: low + 1, col: Math.min(at - start + 1, Math.max(1, end - start)) };
}

/** The offset where each line of `text` starts (a line ends at `\n`; the text after a last `\n` is no line). */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let index = text.indexOf("\n"); index !== -1; index = text.indexOf("\n", index + 1)) {
    if (index + 1 < text.length) starts.push(index + 1);
  }
  return starts;
}

/** A locator over a parsed YAML document of `text`; every position it gives lies inside the text. */
export function yamlLocator(file: string, document: Document.Parsed, text: string): SourceLocator {
  const starts = lineStarts(text);
  const positionAt = (offset: number): Position => textPosition(text, offset, starts);
  const pairs = new PairIndex();
  return {
    file,
    positionAt,
    locate(pointer, target = "value") {
      const found = findNode(document, pointer, pairs);
      const node = target === "key" && found.key ? found.key : (found.value ?? found.key ?? found.parent);
      return node?.range ? positionAt(node.range[0]) : { line: 1, col: 1 };
    },
  };
}

interface FoundNode {
  /** The key node naming the last segment reached inside a map. */
  key?: Node;
  /** The value node reached (absent when a key has an empty value). */
  value?: Node;
  /** The last collection walked through, for pointers that end inside it. */
  parent?: Node;
}

/**
 * The pairs of each map by key text, built the first time a map is searched: a compile locates
 * several keys of every event, and a linear search of a 2,000-event map for each made locating
 * quadratic. The first pair wins, as `items.find` would (a duplicate key is an error anyway).
 */
class PairIndex {
  readonly #byMap = new WeakMap<YAMLMap, Map<string, Pair>>();

  find(map: YAMLMap, key: string): Pair | undefined {
    let index = this.#byMap.get(map);
    if (!index) {
      index = new Map();
      for (const item of map.items) {
        if (!isPair(item)) continue;
        const text = keyText(item.key);
        if (text !== undefined && !index.has(text)) index.set(text, item);
      }
      this.#byMap.set(map, index);
    }
    return index.get(key);
  }
}

/** Walks a pointer down the document, through aliases, as far as it goes. */
function findNode(document: Document.Parsed, pointer: string, pairs: PairIndex): FoundNode {
  const segments = parsePointer(pointer) ?? [];
  let current: Node | undefined = document.contents ?? undefined;
  let key: Node | undefined;
  let parent: Node | undefined;
  for (const segment of segments) {
    const node: Node | undefined = isAlias(current) ? resolveAlias(document, current) : current;
    if (isMap(node)) {
      const pair = pairs.find(node, segment);
      if (!pair) return { key, value: node, parent };
      parent = node;
      key = pair.key as Node;
      current = isEmptyScalar(pair.value as Node | null)
        ? undefined
        : ((pair.value as Node | null) ?? undefined);
      if (!current) return { key, parent };
    } else if (isSeq(node)) {
      const item = /^(0|[1-9]\d*)$/.test(segment) ? node.items[Number(segment)] : undefined;
      if (item === undefined) return { key, value: node, parent };
      parent = node;
      key = undefined;
      current = item as Node;
    } else {
      return { key, value: node, parent };
    }
  }
  return { key, value: current, parent };
}

function resolveAlias(document: Document.Parsed, alias: Node): Node | undefined {
  if (!isAlias(alias)) return alias;
  try {
    return (alias.resolve(document) as Node | undefined) ?? undefined;
  } catch {
    return undefined;
  }
}

/** An empty value (`key:` with nothing after it) has no useful position of its own: the key has. */
function isEmptyScalar(node: Node | null | undefined): boolean {
  return isScalar(node) && node.value === null && !!node.range && node.range[0] === node.range[1];
}

/** The text of a map key as it becomes a property name in JavaScript. */
export function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return key.value === null ? "" : String(key.value);
  return undefined;
}
