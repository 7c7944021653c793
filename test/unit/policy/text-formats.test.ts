/**
 * The `safe-text` and `plain-text` formats: every character class at its boundaries, a property
 * against a per-code-point reference, and both paths that use them (the loader's checks and the
 * compiled validators).
 */
import { expect } from "chai";
import fc from "fast-check";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compilePolicy } from "../../../src/compile/compile.js";
import { loadPolicy } from "../../../src/policy/load.js";
import { isPlainText, isSafeText } from "../../../src/policy/text-formats.js";

const FIXTURES = fileURLToPath(new URL("../../fixtures/policy/text-formats/", import.meta.url));

const HIGH = "\uD83D"; // the high half of 👋 (U+1F44B)
const LOW = "\uDC4B"; // its low half

/** [what, text, safe-text?]; plain-text agrees with safe-text on all of these (none holds < or >). */
const BOUNDARIES: readonly (readonly [string, string, boolean])[] = [
  ["the empty string", "", true],
  ["U+0000 NUL", "a\u0000b", false],
  ["U+0008 backspace", "a\u0008b", false],
  ["U+0009 tab", "a\tb", true],
  ["U+000A LF", "a\nb", true],
  ["U+000B vertical tab", "a\u000Bb", false],
  ["U+000C form feed", "a\u000Cb", false],
  ["U+000D CR", "a\r\nb", true],
  ["U+001F unit separator", "a\u001Fb", false],
  ["U+0020 space", "a b", true],
  ["U+007E tilde", "a~b", true],
  ["U+007F DEL", "a\u007Fb", false],
  ["U+0080, the first C1 control", "a\u0080b", false],
  ["U+009F, the last C1 control", "a\u009Fb", false],
  ["U+00A0 no-break space", "a\u00A0b", true],
  ["U+200E left-to-right mark", "a\u200Eb", true],
  ["U+200F right-to-left mark", "a\u200Fb", true],
  ["U+2029 paragraph separator", "a\u2029b", true],
  ["U+202A left-to-right embedding", "a\u202Ab", false],
  ["U+202E right-to-left override", "a\u202Eb", false],
  ["U+202F narrow no-break space", "a\u202Fb", true],
  ["U+2065, unassigned, below the isolates", "a\u2065b", true],
  ["U+2066 left-to-right isolate", "a\u2066b", false],
  ["U+2069 pop directional isolate", "a\u2069b", false],
  ["U+206A, just past the isolates", "a\u206Ab", true],
  ["a paired surrogate (emoji)", `hi ${HIGH}${LOW}!`, true],
  ["a lone high surrogate at the end", `hi${HIGH}`, false],
  ["a lone high surrogate in the middle", `a${HIGH}b`, false],
  ["a high surrogate followed by another high one", `${HIGH}${HIGH}${LOW}`, false],
  ["a lone low surrogate", `a${LOW}b`, false],
  ["a low surrogate before its high half", `${LOW}${HIGH}`, false],
  ["two low surrogates", "\uDC00\uDC00", false],
  ["the first and last surrogates paired, U+10000 and U+10FFFF", "\uD800\uDC00\uDBFF\uDFFF", true],
  ["the last code point, U+10FFFF", "\u{10FFFF}", true],
  ["U+FFFF", "\uFFFF", true],
];

describe("text formats", () => {
  describe("at every boundary", () => {
    for (const [what, text, safe] of BOUNDARIES) {
      it(`${safe ? "accepts" : "refuses"} ${what}`, () => {
        expect(isSafeText(text)).to.equal(safe);
        expect(isPlainText(text)).to.equal(safe);
      });
    }

    for (const bracket of ["<", ">"]) {
      it(`plain-text refuses ${bracket}, which safe-text accepts`, () => {
        expect(isSafeText(`a ${bracket} b`)).to.equal(true);
        expect(isPlainText(`a ${bracket} b`)).to.equal(false);
        expect(isPlainText(bracket)).to.equal(false);
      });
    }

    it("plain-text refuses a tag, and still refuses what safe-text does", () => {
      expect(isPlainText("<script>alert(1)</script>")).to.equal(false);
      expect(isPlainText("a\u0000b")).to.equal(false);
      expect(isPlainText("fish & chips \"quoted\" 'single'")).to.equal(true);
    });
  });

  describe("agrees with a per-code-point reference on random strings", () => {
    // The classes the formats care about, often, among random code units and code points: a random
    // code unit alone is how a lone surrogate appears, a random code point how a pair does.
    const interesting = fc.constantFrom(
      ..."\u0000\u0008\t\n\u000B\r\u001F \u007E\u007F\u0080\u009F\u00A0<>\u200E\u200F\u2029\u202A\u202E\u202F\u2065\u2066\u2069\u206A",
      HIGH,
      LOW,
      "\uDBFF",
      "\uDFFF",
      "\uD800",
      "\uDC00",
    );
    // Two surrogate halves side by side, any order: where pairing by hand can go wrong.
    const half = fc.oneof(
      fc.constantFrom(0xd800, 0xdbff, 0xdc00, 0xdfff),
      fc.integer({ min: 0xd800, max: 0xdfff }),
    );
    const halves = fc.tuple(half, half).map(([a, b]) => String.fromCharCode(a, b));
    const unit = fc.oneof(
      interesting,
      halves,
      fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
      fc.integer({ min: 0, max: 0x10ffff }).map((code) => String.fromCodePoint(code)),
      fc.constantFrom("a", "é", "😀"),
    );
    const text = fc.array(unit, { maxLength: 24 }).map((parts) => parts.join(""));
    const runs = { seed: 0x5eed, numRuns: 2000 };

    it("safe-text", () => {
      fc.assert(
        fc.property(text, (value) => isSafeText(value) === referenceSafeText(value)),
        runs,
      );
    });

    it("plain-text", () => {
      fc.assert(
        fc.property(
          text,
          (value) => isPlainText(value) === (referenceSafeText(value) && !/[<>]/.test(value)),
        ),
        runs,
      );
    });
  });

  describe("in event schemas", () => {
    const load = (fixture: string) => loadPolicy(join(FIXTURES, fixture));

    it("loads a policy using both, inline and in a schema file, without a diagnostic", async () => {
      const loaded = await load("good.yaml");
      expect(loaded.diagnostics).to.deep.equal([]);
      expect(loaded.policy).to.not.equal(undefined);
    });

    it("still refuses an unknown format, suggesting the nearest", async () => {
      const loaded = await load("typo.yaml");
      expect(loaded.diagnostics.map((d) => [d.line, d.message])).to.deep.equal([
        [8, 'unknown format "plain-txt" (did you mean "plain-text"?)'],
      ]);
    });

    it("compiles validators that refuse by format, for strings only", async () => {
      const compiled = compilePolicy(await load("good.yaml"), {});
      const events = compiled.namespaces.get("/chat")?.events;
      const rename = events?.get("rename")?.args[0]?.validate;
      const note = events?.get("note")?.args[0]?.validate;
      const tag = events?.get("tag")?.args[0]?.validate;
      if (!rename || !note || !tag) throw new Error("schema validators expected");
      expect(rename("Ada Lovelace")).to.equal(true);
      expect(rename("<b>Ada</b>")).to.equal(false);
      expect(rename.errors?.[0]?.keyword).to.equal("format");
      expect(note("a < b")).to.equal(true);
      expect(note("a\u202Eb")).to.equal(false);
      expect(note.errors?.[0]?.keyword).to.equal("format");
      // Where a number is allowed beside a string, the format leaves the number alone.
      expect(tag(42)).to.equal(true);
      expect(tag("<i>")).to.equal(false);
    });
  });
});

/** The definition read literally: well-formed UTF-16, then one test per code point. */
function referenceSafeText(text: string): boolean {
  // String.prototype.isWellFormed is in Node 20, but not in the ES2023 lib this project compiles against.
  if (!(text as string & { isWellFormed(): boolean }).isWellFormed()) return false;
  for (const character of text) {
    const code = character.codePointAt(0) ?? 0;
    const control = code <= 0x1f || (code >= 0x7f && code <= 0x9f);
    if (control && code !== 0x09 && code !== 0x0a && code !== 0x0d) return false;
    if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) return false;
  }
  return true;
}
