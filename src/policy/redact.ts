/**
 * Keeping environment values out of every message. A value read with `${env:...}` can be a secret,
 * and YAML aliases or `$ref`s can carry it into any key, so the loader does not trust each check to
 * leave it out: every diagnostic's message is scrubbed of every value the environment supplied.
 */

/** What a value read from the environment is replaced with in a message. */
export const REDACTED = "<value from the environment>";

/**
 * Long values are scrubbed wherever they appear; short ones (fewer than this many characters)
 * only where they stand alone, so that a value such as `ab` does not eat the words of a message.
 */
const SUBSTRING_MIN = 6;
/** Numbers and booleans tell nothing secret, and the messages about such keys name them. */
const NOT_SECRET = /^(true|false|-?\d+(\.\d+)?)$/;

/**
 * A function that replaces every environment value in a message.
 *
 * @example
 * const scrub = redactor(new Set(["hunter2-is-long"]));
 * scrub("cannot read schema file hunter2-is-long: no such file"); // "cannot read schema file <value from the environment>: no such file"
 */
export function redactor(values: Iterable<string>): (message: string) => string {
  const patterns = [...values]
    .filter((value) => value.length > 0 && !NOT_SECRET.test(value))
    .flatMap(spellings)
    .sort((a, b) => b.length - a.length)
    .map((value) => {
      const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      return new RegExp(
        value.length >= SUBSTRING_MIN ? escaped : `(?<![\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`,
        "gu",
      );
    });
  if (patterns.length === 0) return (message) => message;
  return (message) => patterns.reduce((text, pattern) => text.replace(pattern, REDACTED), message);
}

/**
 * The ways a value can appear in a message: as it is, JSON-escaped (a quoted name), percent-encoded
 * (a file URL), and its first characters (a message that shortens a long value keeps its start).
 */
function spellings(value: string): string[] {
  const forms = new Set([value, JSON.stringify(value).slice(1, -1), encodeURI(value)]);
  if (value.length > PREFIX_LENGTH) forms.add(value.slice(0, PREFIX_LENGTH));
  return [...forms];
}

const PREFIX_LENGTH = 24;
