import assert from "node:assert/strict";
import { CLIENT_NAME_PLACEHOLDER, redactInstancePath } from "../../../src/decide/redact-path.js";

describe("redactInstancePath", () => {
  const named = new Set(["profile", "tags", "a/b", "x~y"]);

  it("keeps array indexes and names the schema names, escaped as ajv escapes them", () => {
    assert.equal(redactInstancePath("/profile/tags/3", named), "/profile/tags/3");
    assert.equal(redactInstancePath("/a~1b/x~0y", named), "/a~1b/x~0y");
    assert.equal(redactInstancePath("", named), "");
  });

  for (const [what, name] of [
    ["a newline", "line\nbreak"],
    ["an ANSI escape", "\u001b[31mred\u001b[0m"],
    ["an escaped slash", "evil~1name"],
    ["an escaped tilde", "~0~1"],
    ["a very long name", "n".repeat(100_000)],
    ["a name that is a prefix of a named one", "prof"],
    ["a leading-zero number", "007"],
  ] as const) {
    it(`replaces a client-chosen key with ${what}`, () => {
      assert.equal(redactInstancePath(`/profile/${name}/2`, named), `/profile/${CLIENT_NAME_PLACEHOLDER}/2`);
    });
  }

  it("replaces a client-chosen key that ajv escaped (a `/` inside it) as one segment", () => {
    // ajv writes the key "a/b/c" as "a~1b~1c": one segment, never three.
    assert.equal(redactInstancePath("/a~1b~1c", named), "/*");
  });
});
