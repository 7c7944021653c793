import { expect } from "chai";
import { expandString } from "../../../src/policy/env.js";

describe("environment values (${env:...})", () => {
  const environment = { PORT: "4100", EMPTY: "", NAME: "chat" };

  it("replaces ${env:NAME} inside a string, as many times as it appears", () => {
    expect(expandString("http://localhost:${env:PORT}", environment)).to.equal("http://localhost:4100");
    expect(expandString("${env:NAME}-${env:PORT}", environment)).to.equal("chat-4100");
  });

  it("uses the default of ${env:NAME:-default} when the variable is unset or empty, as a shell does", () => {
    expect(expandString("${env:UNSET:-3000}", environment)).to.equal("3000");
    expect(expandString("${env:EMPTY:-fallback}", environment)).to.equal("fallback");
    expect(expandString("${env:PORT:-3000}", environment)).to.equal("4100");
    expect(expandString("${env:UNSET:-}", environment)).to.equal("");
  });

  it("keeps an empty value that is set, when there is no default", () => {
    expect(expandString("[${env:EMPTY}]", environment)).to.equal("[]");
  });

  it("reports an unset variable without a default, never expanding it to an empty string", () => {
    expect(expandString("${env:UNSET}", environment)).to.deep.equal({
      problem: "environment variable UNSET is not set (write ${env:UNSET:-default} for a fallback)",
    });
  });

  it("reports a malformed reference", () => {
    expect(expandString("${env:PORT", environment)).to.deep.equal({
      problem: "unclosed ${env:...}: a reference ends with }",
    });
    expect(expandString("${env:1X}", environment))
      .to.have.property("problem")
      .that.includes("is not an environment variable name");
  });

  it("treats $${env:...} as the literal text ${env:...}", () => {
    expect(expandString("$${env:PORT}", environment)).to.equal("${env:PORT}");
  });

  it("leaves strings without a reference untouched, other $ and braces included", () => {
    expect(expandString("^[a-z]{1,3}$", environment)).to.equal("^[a-z]{1,3}$");
    expect(expandString("${PORT}", environment)).to.equal("${PORT}");
  });
});
