/**
 * Namespace patterns (DESIGN §1.1): a `namespaces` key with `{name}` segments, such as
 * `/tenant-{tenant}`, matches the dynamic namespaces an app creates with `io.of(regex)` or
 * `io.of(fn)`. Each `{name}` matches one run of 1 to 64 characters of `[A-Za-z0-9_.-]`, never a
 * `/`, so a capture stays inside one path segment.
 *
 * Two rules keep every match's captures unique, which tenant binding depends on: the same name
 * appears once, and two captures are separated by literal text holding a character a capture
 * cannot (a `/`, `:`, `~`...). `/org-{org}.{team}` is refused: `/org-a.b.c` could be `a` + `b.c` or
 * `a.b` + `c`.
 */

/** What one `{name}` matches. */
export const SEGMENT_MAX_LENGTH = 64;

/** A literal run of a pattern, or one capture. */
export type PatternToken =
  { readonly kind: "literal"; readonly text: string } | { readonly kind: "capture"; readonly name: string };

/** A parsed pattern key: its tokens, and the capture names in order. */
export interface NamespacePattern {
  readonly key: string;
  readonly tokens: readonly PatternToken[];
  readonly names: readonly string[];
}

/** A key that is not a well-formed pattern, and why. */
export interface PatternProblem {
  readonly problem: string;
}

const CAPTURE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True for a character a `{name}` segment can match. */
export function isSegmentChar(char: string): boolean {
  const code = char.charCodeAt(0);
  return (
    char.length === 1 &&
    ((code >= 0x30 && code <= 0x39) || // 0-9
      (code >= 0x41 && code <= 0x5a) || // A-Z
      (code >= 0x61 && code <= 0x7a) || // a-z
      code === 0x5f || // _
      code === 0x2e || // .
      code === 0x2d) // -
  );
}

/** True when `key` is written as a pattern (it holds a `{` or a `}`): an exact name never does. */
export function isPatternKey(key: string): boolean {
  return key.includes("{") || key.includes("}");
}

/**
 * Parses a pattern key. Undefined for an exact name; a problem for a malformed pattern.
 *
 * @example
 * parseNamespacePattern("/tenant-{tenant}"); // { key, tokens: [literal "/tenant-", capture "tenant"], names: ["tenant"] }
 * parseNamespacePattern("/chat");            // undefined
 */
export function parseNamespacePattern(key: string): NamespacePattern | PatternProblem | undefined {
  if (!isPatternKey(key)) return undefined;
  const tokens: PatternToken[] = [];
  const names: string[] = [];
  let literal = "";
  for (let at = 0; at < key.length; at++) {
    const char = key[at]!;
    if (char === "}") return { problem: "a } without its {: a pattern segment is written {name}" };
    if (char !== "{") {
      literal += char;
      continue;
    }
    const end = key.indexOf("}", at + 1);
    if (end === -1) return { problem: "a { without its }: a pattern segment is written {name}" };
    const name = key.slice(at + 1, end);
    if (!CAPTURE_NAME.test(name)) {
      return { problem: "a pattern segment's name is letters, digits and _, not starting with a digit" };
    }
    if (names.includes(name)) return { problem: `the segment {${name}} appears twice` };
    if (tokens.length > 0 && tokens.at(-1)!.kind === "capture" && literal === "") {
      return { problem: "two segments side by side: nothing says where one ends and the next begins" };
    }
    if (literal !== "") {
      if (names.length > 0 && [...literal].every(isSegmentChar)) {
        return {
          problem: `the text between {${names.at(-1)}} and {${name}} holds only characters a segment matches, so a name could split two ways: separate them with a character such as / or :`,
        };
      }
      tokens.push({ kind: "literal", text: literal });
      literal = "";
    }
    tokens.push({ kind: "capture", name });
    names.push(name);
    at = end;
  }
  if (literal !== "") tokens.push({ kind: "literal", text: literal });
  return { key, tokens, names };
}

/** True when `parsed` is a problem rather than a pattern. */
export function isPatternProblem(
  parsed: NamespacePattern | PatternProblem | undefined,
): parsed is PatternProblem {
  return parsed !== undefined && "problem" in parsed;
}

/**
 * A namespace name both patterns match, or undefined when none exists. Decided exactly on the
 * patterns' grammar (a product of their two automata, each capture counting the characters it has
 * taken), so "undefined" is a proof, not a guess.
 *
 * @example
 * patternOverlap(parse("/t-{a}"), parse("/{b}-x")); // "/t-x"
 * patternOverlap(parse("/t-{a}"), parse("/u-{b}")); // undefined
 */
export function patternOverlap(a: NamespacePattern, b: NamespacePattern): string | undefined {
  const left = positionsOf(a);
  const right = positionsOf(b);
  const width = right.length + 1;
  // A state is (index into left, index into right); a capture's length is in the position list.
  const start = 0;
  const previous = new Map<number, { from: number; char: string }>([[start, { from: -1, char: "" }]]);
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const state = queue[head]!;
    const i = Math.floor(state / width);
    const j = state % width;
    for (const ni of successorsOrSelf(left, i)) {
      for (const nj of successorsOrSelf(right, j)) {
        if (ni === left.length && nj === right.length) return witness(previous, state);
        if (ni === left.length || nj === right.length) continue;
        const char = commonChar(left[ni]!, right[nj]!);
        if (char === undefined) continue;
        const next = (ni + 1) * width + (nj + 1);
        if (previous.has(next)) continue;
        previous.set(next, { from: state, char });
        queue.push(next);
      }
    }
  }
  return undefined;
}

/** One character of a pattern: a literal one, or the `n`th character of a capture (n from 1). */
type Position = { readonly literal: string } | { readonly capture: number };

/**
 * A pattern as a list of single-character positions: a capture is 64 of them, of which all after
 * the first may be skipped to the capture's end.
 */
function positionsOf(pattern: NamespacePattern): Position[] {
  const positions: Position[] = [];
  for (const token of pattern.tokens) {
    if (token.kind === "literal") for (const char of token.text) positions.push({ literal: char });
    else for (let n = 1; n <= SEGMENT_MAX_LENGTH; n++) positions.push({ capture: n });
  }
  return positions;
}

/**
 * Where a matcher that has consumed `index` positions may read its next character: `index`
 * itself, and, inside a capture that has taken at least one character, the first position after it.
 * `positions.length` means the end.
 */
function successorsOrSelf(positions: readonly Position[], index: number): number[] {
  const here = positions[index];
  if (here === undefined || !("capture" in here) || here.capture === 1) return [index];
  return [index, index + SEGMENT_MAX_LENGTH - here.capture + 1];
}

function commonChar(a: Position, b: Position): string | undefined {
  if ("literal" in a && "literal" in b) return a.literal === b.literal ? a.literal : undefined;
  if ("literal" in a) return isSegmentChar(a.literal) ? a.literal : undefined;
  if ("literal" in b) return isSegmentChar(b.literal) ? b.literal : undefined;
  return "a";
}

function witness(previous: ReadonlyMap<number, { from: number; char: string }>, end: number): string {
  const chars: string[] = [];
  for (let state = end; state > 0;) {
    const step = previous.get(state)!;
    chars.push(step.char);
    state = step.from;
  }
  return chars.reverse().join("");
}
