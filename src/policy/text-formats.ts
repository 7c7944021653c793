/**
 * The policy's own string formats, `safe-text` and `plain-text` (DESIGN §1.1). They refuse, and
 * never rewrite, text that is almost never legitimate and often the start of an injection: handlers
 * still receive exactly what was validated. Each check is one pass over the UTF-16 code units, with
 * surrogates paired by hand: no regular expression, so its cost is linear in the length whatever
 * the input (the schema's `maxLength` bounds that length).
 */

/**
 * True when `text` is safe text: no control character of Unicode category Cc (U+0000–U+001F,
 * U+007F–U+009F) other than tab, LF and CR; no lone surrogate; no bidirectional embedding,
 * override or isolate (U+202A–U+202E, U+2066–U+2069). The bidirectional marks U+200E and U+200F
 * (LRM, RLM) pass: they are not controls of that list, they cannot reorder text beyond themselves,
 * and right-to-left writers use them in ordinary text.
 *
 * @example
 * isSafeText("héllo\nwörld 👋"); // true
 * isSafeText("a\u0000b");        // false: NUL
 * isSafeText("\u202Egnp.exe");   // false: right-to-left override
 */
export function isSafeText(text: string): boolean {
  return scanText(text, false);
}

/**
 * True when `text` is safe text (see {@link isSafeText}) and holds no `<` or `>`, so it cannot open
 * or close an HTML tag wherever it ends up.
 *
 * @example
 * isPlainText("2 + 2 = 4");         // true
 * isPlainText("<script>x</script>"); // false
 */
export function isPlainText(text: string): boolean {
  return scanText(text, true);
}

/**
 * The formats as Ajv takes them; `type: "string"` makes them apply to strings only (any other value
 * passes the format, as JSON Schema says, and is left to `type`).
 *
 * @example
 * for (const [name, format] of Object.entries(TEXT_FORMATS)) ajv.addFormat(name, format);
 */
export const TEXT_FORMATS = Object.freeze({
  "safe-text": Object.freeze({ type: "string" as const, validate: isSafeText }),
  "plain-text": Object.freeze({ type: "string" as const, validate: isPlainText }),
});

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const LESS_THAN = 0x3c;
const GREATER_THAN = 0x3e;

function scanText(text: string, refuseAngleBrackets: boolean): boolean {
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const unit = text.charCodeAt(i);
    // Printable ASCII first: nearly every character of real text ends here.
    if (unit >= 0x20 && unit < 0x7f) {
      if (refuseAngleBrackets && (unit === LESS_THAN || unit === GREATER_THAN)) return false;
      continue;
    }
    if (unit < 0x20) {
      if (unit !== TAB && unit !== LF && unit !== CR) return false;
      continue;
    }
    if (unit <= 0x9f) return false; // U+007F DEL and the C1 controls U+0080–U+009F
    if (unit < 0x202a) continue;
    if (unit <= 0x202e) return false; // LRE, RLE, PDF, LRO, RLO
    if (unit >= 0x2066 && unit <= 0x2069) return false; // LRI, RLI, FSI, PDI
    if (unit < 0xd800 || unit > 0xdfff) continue;
    // A surrogate: only a high one (U+D800–U+DBFF) directly followed by a low one is a character.
    if (unit >= 0xdc00) return false;
    const next = text.charCodeAt(i + 1); // NaN past the end, which fails the test below
    if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
    i++;
  }
  return true;
}
