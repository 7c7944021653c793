/**
 * Parses the text of a policy or schema file (YAML 1.2, so JSON too) into a JSON value and a
 * locator for its positions. Hostile text is bounded before the parts of the YAML library that
 * recurse ever see it: nesting is measured on the concrete syntax tree without recursion, aliases
 * are capped when the value is built, and the value is then copied with the same limits.
 */
import { Composer, CST, isCollection, isMap, isPair, isScalar, Lexer, Parser } from "yaml";
import type { Document } from "yaml";
import type { JsonValue } from "./types.js";
import type { DiagnosticCollector } from "./diagnostic-collector.js";
import { MAX_NESTING_DEPTH, toJsonValue } from "./json-value.js";
import { textPosition, yamlLocator, type SourceLocator } from "./positions.js";

import { LoadBudget, MAX_ALIAS_COUNT, tooManyValuesMessage } from "./limits.js";

export interface ParsedSource {
  /** Present when the text holds one document that converts to JSON. */
  readonly value?: JsonValue;
  /** Present once the text parsed far enough to have positions. */
  readonly locator?: SourceLocator;
}

/**
 * Parses `text` from `file`, reporting every problem to `diagnostics` at its position. The values
 * the document holds are spent from `budget` (one load's, shared by its files).
 *
 * @example
 * const { value, locator } = parseYamlSource("/srv/policies/chat.yaml", text, diagnostics);
 */
export function parseYamlSource(
  file: string,
  text: string,
  diagnostics: DiagnosticCollector,
  budget: LoadBudget = new LoadBudget(),
): ParsedSource {
  // Flow collections (`[[[[...`) are the cheapest way to nest deeply, and long flow lists the
  // cheapest way to make the parser work: the lexer alone finds both fast, before anything is built.
  const scan = scanTokens(text, budget.valuesLeft);
  if ("problem" in scan) {
    diagnostics.add(file, textPosition(text, scan.offset), "", scan.problem);
    return {};
  }

  // The parser is fed the lexemes the scan already made (what `Parser.parse` does with a lexer of
  // its own): the text is lexed once.
  const parser = new Parser();
  const tokens: CST.Token[] = [];
  for (const lexeme of scan.lexemes) for (const token of parser.next(lexeme)) tokens.push(token);
  for (const token of parser.end()) tokens.push(token);
  const tooDeep = findDeepCstNesting(tokens);
  if (tooDeep !== undefined) {
    diagnostics.add(file, textPosition(text, tooDeep), "", tooDeepMessage());
    return {};
  }

  const composer = new Composer({
    version: "1.2",
    schema: "core",
    prettyErrors: false,
    // The library compares each key with every earlier one (quadratic: a 1 MiB map of short keys
    // takes minutes); duplicates are found below with a set per map instead.
    uniqueKeys: false,
    strict: true,
  });
  const documents = Array.from(composer.compose(tokens, true, text.length));
  const document = documents[0];
  if (!document) {
    diagnostics.add(file, { line: 1, col: 1 }, "", "the file holds no YAML document");
    return {};
  }
  const locator = yamlLocator(file, document, text);

  let problems = 0;
  for (const error of documents.flatMap((each) => each.errors)) {
    problems += 1;
    diagnostics.add(file, locator.positionAt(error.pos[0]), "", shortYamlMessage(error.message));
  }
  for (const warning of document.warnings) {
    diagnostics.add(
      file,
      locator.positionAt(warning.pos[0]),
      "",
      shortYamlMessage(warning.message),
      "warning",
    );
  }
  if (documents.length > 1) {
    const second = documents[1]!;
    problems += 1;
    diagnostics.add(
      file,
      locator.positionAt(second.range[0]),
      "",
      "the file holds more than one YAML document",
    );
  }
  problems += reportBadKeys(document, locator, diagnostics);
  if (problems > 0) return { locator };

  if (document.contents === null || (isScalar(document.contents) && document.contents.value === null)) {
    diagnostics.add(file, { line: 1, col: 1 }, "", "the file is empty");
    return { locator };
  }

  let built: unknown;
  try {
    built = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const message =
      error instanceof ReferenceError && /alias/i.test(error.message)
        ? `aliases expand too much (more than ${MAX_ALIAS_COUNT} uses): refused as a resource exhaustion attack`
        : "the YAML document cannot be built";
    diagnostics.add(file, { line: 1, col: 1 }, "", message);
    return { locator };
  }
  const converted = toJsonValue(built, { maxValues: budget.valuesLeft, problem: tooManyValuesMessage() });
  if (!converted.ok) {
    diagnostics.report(locator, converted.pointer, converted.problem);
    return { locator };
  }
  budget.spendValues(converted.values);
  return { value: converted.value, locator };
}

function tooDeepMessage(): string {
  return `nesting is deeper than ${MAX_NESTING_DEPTH} levels`;
}

/**
 * The first place where flow collections nest deeper than the limit, or where the text holds more
 * values than `valuesLeft`. Every value is at most two tokens counted here (a key and its scalar, a
 * list item, a flow collection, an alias), so more than twice as many tokens means too many values.
 * Without a problem, the text's lexemes, for the parser.
 */
function scanTokens(
  text: string,
  valuesLeft: number,
): { readonly offset: number; readonly problem: string } | { readonly lexemes: readonly string[] } {
  const maxCounted = 2 * valuesLeft + 2;
  let depth = 0;
  let counted = 0;
  let offset = 0;
  const lexemes: string[] = [];
  for (const token of new Lexer().lex(text)) {
    lexemes.push(token);
    if (token === "[" || token === "{") {
      depth += 1;
      if (depth > MAX_NESTING_DEPTH) return { offset, problem: tooDeepMessage() };
    } else if (token === "]" || token === "}") {
      depth = Math.max(0, depth - 1);
    }
    if (COUNTED_TOKENS.has(CST.tokenType(token) ?? "")) {
      counted += 1;
      if (counted > maxCounted) return { offset, problem: tooManyValuesMessage() };
    }
    offset += lexedLength(token);
  }
  return { lexemes };
}

/** Tokens that each start a value or a key (a plain scalar is marked by its own control token). */
const COUNTED_TOKENS: ReadonlySet<string> = new Set([
  "scalar",
  "single-quoted-scalar",
  "double-quoted-scalar",
  "alias",
  "flow-map-start",
  "flow-seq-start",
]);

/** Lexer tokens are source text, except the control characters that mark what follows. */
function lexedLength(token: string): number {
  return token.length === 1 && token.charCodeAt(0) < 0x20 && token !== "\n" && token !== "\t"
    ? 0
    : token.length;
}

/**
 * The offset of the first collection nested deeper than the limit, block or flow, found by walking
 * the concrete syntax tree with an explicit stack.
 */
function findDeepCstNesting(tokens: readonly CST.Token[]): number | undefined {
  const stack: { token: CST.Token; depth: number }[] = tokens.map((token) => ({ token, depth: 0 }));
  while (stack.length > 0) {
    const { token, depth } = stack.pop()!;
    switch (token.type) {
      case "document":
        if (token.value) stack.push({ token: token.value, depth });
        break;
      case "block-map":
      case "block-seq":
      case "flow-collection": {
        const inner = depth + 1;
        if (inner > MAX_NESTING_DEPTH) return token.offset;
        for (const item of token.items) {
          if (item.key) stack.push({ token: item.key, depth: inner });
          if (item.value) stack.push({ token: item.value, depth: inner });
        }
        break;
      }
      default:
        break;
    }
  }
  return undefined;
}

/**
 * Map keys must be plain strings, each once per map: a collection as a key cannot become a property
 * name, a number or boolean key (`1:`, `true:`) is almost always a name that lost its quotes, and a
 * duplicate key would silently replace the first one.
 */
function reportBadKeys(
  document: Document.Parsed,
  locator: SourceLocator,
  diagnostics: DiagnosticCollector,
): number {
  let count = 0;
  const report = (key: unknown, message: string): void => {
    count += 1;
    const offset = (key as { range?: [number, number, number] } | null)?.range?.[0];
    diagnostics.add(
      locator.file,
      offset === undefined ? { line: 1, col: 1 } : locator.positionAt(offset),
      "",
      message,
    );
  };
  // Every map of the document, parents before children and in document order, as the library's
  // `visit` would walk them (without the path it copies at every level, which a big policy pays for).
  const stack: unknown[] = [document.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = pair.key;
        if (isCollection(key) || (key !== null && !isScalar(key))) {
          report(key, "a map key must be a string, not a collection or alias");
        } else if (isScalar(key) && typeof key.value !== "string") {
          const shown =
            key.value === null ? "an empty key" : `key ${String(key.value)} is a ${typeof key.value}`;
          report(key, `${shown}; map keys are strings (quote it)`);
        } else if (isScalar(key)) {
          const name = key.value as string;
          if (seen.has(name))
            report(key, `duplicate key ${JSON.stringify(name.length > 80 ? name.slice(0, 80) + "…" : name)}`);
          seen.add(name);
        } else {
          report(key, "an empty key; map keys are strings");
        }
      }
    }
    if (isCollection(node)) {
      for (let index = node.items.length - 1; index >= 0; index -= 1) stack.push(node.items[index]);
    } else if (isPair(node)) {
      stack.push(node.value, node.key);
    }
  }
  return count;
}

/** The YAML library's message without its trailing source excerpt. */
function shortYamlMessage(message: string): string {
  const firstLine = message
    .split("\n")[0]!
    .replace(/ at line \d+, column \d+:?$/, "")
    .trim();
  return firstLine.length > 200 ? firstLine.slice(0, 200) + "…" : firstLine;
}
