import { expect } from "chai";
import { join } from "node:path";
import { loadPolicy } from "../../../src/policy/load.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";

const BASE = `version: 1
connection:
  origins: [https://chat.example.com]
namespaces:
  /chat:
    auth: none
`;

describe("budgets in the policy language", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  async function load(text: string): Promise<Awaited<ReturnType<typeof loadPolicy>>> {
    const dir = await writePolicyFiles(cleanup, { "policy.yaml": text });
    return loadPolicy(join(dir, "policy.yaml"));
  }

  function errors(result: Awaited<ReturnType<typeof loadPolicy>>): string[] {
    return result.diagnostics
      .filter((diagnostic) => diagnostic.severity === "error")
      .map((diagnostic) => `${diagnostic.line}:${diagnostic.col} ${diagnostic.message}`);
  }

  it("accepts every budget of DESIGN §1.1, as a rate and as { rate, by }", async () => {
    const result = await load(`version: 1
connection:
  origins: [https://chat.example.com]
  rateLimit: 30/1m
  maxConnections: 50
namespaces:
  /chat:
    auth: none
    rateLimit: { rate: 10/1m, by: address }
    maxConnections: 5
    eventRateLimit: 100/10s
    events:
      message:
        schema: { type: string, maxLength: 10 }
        rateLimit: { rate: 5/10s, by: socket }
      typing:
        args: []
        rateLimit: 2/1s
`);
    expect(errors(result)).to.deep.equal([]);
    expect(result.policy?.namespaces["/chat"]?.events?.message?.rateLimit).to.deep.equal({
      rate: "5/10s",
      by: "socket",
    });
  });

  it("refuses a rate of 0/1m and a window of 0s, each at its value", async () => {
    const result = await load(`${BASE}    rateLimit: 0/1m
    events:
      message:
        args: []
        rateLimit: { rate: 5/0s }
`);
    expect(errors(result)).to.deep.equal([
      "7:16 a rate limit is COUNT/DURATION with a count of at least 1 and a window, such as 5/10s",
      "11:28 a rate limit is COUNT/DURATION with a count of at least 1 and a window, such as 5/10s",
    ]);
  });

  it("refuses a connection rate that is not a rate, at its value", async () => {
    const result = await load(`version: 1
connection:
  origins: [https://chat.example.com]
  rateLimit: lots
namespaces:
  /chat:
    auth: none
`);
    expect(errors(result)).to.deep.equal([
      "4:14 a rate limit is COUNT/DURATION with a count of at least 1 and a window, such as 5/10s",
    ]);
  });

  it("refuses an unknown `by` and a quota below 1, with positions", async () => {
    const result = await load(`version: 1
connection:
  origins: [https://chat.example.com]
  maxConnections: 0
namespaces:
  /chat:
    auth: none
    eventRateLimit: { rate: 5/10s, by: ip }
`);
    const found = errors(result);
    expect(found).to.include("4:19 connection.maxConnections must be >= 1");
    expect(found).to.include(
      '8:40 namespaces["/chat"].eventRateLimit.by must be one of: subject, address, socket',
    );
  });
});
