/**
 * A load that keeps what earlier loads found about the event schemas (`PolicyLoadCache`, as a
 * reloader keeps one) gives exactly what a load from scratch gives: the same diagnostics in the
 * same order, the same version and policy, after every kind of edit a reload sees.
 */
import { expect } from "chai";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadPolicy } from "../../../src/policy/load.js";
import { PolicyLoadCache } from "../../../src/policy/load-cache.js";
import { hasErrors } from "../../../src/policy/diagnostic.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";

const ROOM_SCHEMA = JSON.stringify({
  type: "object",
  properties: { room: { type: "string", maxLength: 32 }, text: { type: "string", maxLength: 200 } },
  required: ["room"],
  additionalProperties: false,
});

/** A policy of many events; `edits` replaces the schema of the events it names (YAML flow text). */
function policyText(edits: Readonly<Record<number, string>> = {}): string {
  const events: string[] = [];
  for (let i = 0; i < 40; i++) {
    const schema =
      edits[i] ??
      [
        "{ $ref: schemas/room.json }",
        `{ type: string, maxLength: ${10 + (i % 5)} }`,
        "{ type: string, pattern: '^[a-z]+$' }",
        "{ maxLength: 8, type: string }",
      ][i % 4]!;
    events.push(`      event-${i}:\n        schema: ${schema}`);
  }
  return `version: 1\nnamespaces:\n  /chat:\n    auth: none\n    events:\n${events.join("\n")}\n`;
}

/** Edits a reload meets: each is the policy text and the schema file's text after it. */
const EDITS: readonly { readonly name: string; readonly policy: string; readonly room?: string }[] = [
  { name: "one event's schema changed", policy: policyText({ 1: "{ type: string, maxLength: 99 }" }) },
  {
    name: "an unknown keyword in one event",
    policy: policyText({ 5: "{ type: string, maxLenght: 3 }" }),
  },
  {
    name: "a schema that does not compile (required names an undefined property)",
    policy: policyText({ 9: "{ type: object, properties: { a: { type: string } }, required: [b] }" }),
  },
  { name: "the fix of both", policy: policyText({ 1: "{ type: string, maxLength: 99 }" }) },
  {
    name: "a meta-schema error, written twice in two key orders",
    policy: policyText({ 2: "{ type: strin, maxLength: 3 }", 6: "{ maxLength: 3, type: strin }" }),
  },
  {
    name: "a schema with an $id",
    policy: policyText({ 3: "{ $id: 'urn:example:x', type: string, maxLength: 3 }" }),
  },
  {
    name: "two schemas with the same $id",
    policy: policyText({
      3: "{ $id: 'urn:example:x', type: string, maxLength: 3 }",
      7: "{ $id: 'urn:example:x', type: integer }",
    }),
  },
  { name: "back to the first policy", policy: policyText() },
  {
    name: "the schema file changed to one with an error",
    policy: policyText(),
    room: JSON.stringify({ type: "object", properties: {}, required: ["room"] }),
  },
  { name: "the schema file fixed", policy: policyText({ 4: "{ type: string, maxLength: 1 }" }) },
  {
    name: "a broken YAML file",
    policy: policyText().replace("event-12:", "event-12: ["),
  },
  { name: "the same policy again", policy: policyText({ 4: "{ type: string, maxLength: 1 }" }) },
];

describe("loadPolicy with a PolicyLoadCache", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  /** The 40-event policy and its schema file on disk, and a fresh cache. */
  async function manyEvents(): Promise<{ dir: string; path: string; cache: PolicyLoadCache }> {
    const dir = await writePolicyFiles(cleanup, {
      "policy.yaml": policyText(),
      "schemas/room.json": ROOM_SCHEMA,
    });
    return { dir, path: join(dir, "policy.yaml"), cache: new PolicyLoadCache() };
  }

  it("gives, after each edit, the diagnostics, version and policy a load from scratch gives", async () => {
    const { dir, path, cache } = await manyEvents();
    const first = await loadPolicy(path, { cache });
    expect(first.diagnostics.filter((d) => d.severity === "warning")).to.have.length(10);
    expect(hasErrors(first.diagnostics)).to.equal(false);
    expect(cache.size).to.be.greaterThan(0);

    let room = ROOM_SCHEMA;
    const sawErrors = new Set<string>();
    for (const edit of EDITS) {
      room = edit.room ?? (edit.name === "the schema file fixed" ? ROOM_SCHEMA : room);
      await writeFile(join(dir, "schemas/room.json"), room);
      await writeFile(path, edit.policy);
      const incremental = await loadPolicy(path, { cache });
      const scratch = await loadPolicy(path);
      expect(incremental.diagnostics, edit.name).to.deep.equal(scratch.diagnostics);
      expect(incremental.version, edit.name).to.equal(scratch.version);
      expect(incremental.policy, edit.name).to.deep.equal(scratch.policy);
      if (hasErrors(scratch.diagnostics)) sawErrors.add(edit.name);
    }
    // Each edit meant to break the policy did: the comparison above covered real errors.
    expect([...sawErrors]).to.have.members([
      "an unknown keyword in one event",
      "a schema that does not compile (required names an undefined property)",
      "a meta-schema error, written twice in two key orders",
      "two schemas with the same $id",
      "the schema file changed to one with an error",
      "a broken YAML file",
    ]);
  });

  it("keeps only what the last load used", async () => {
    const { path, cache } = await manyEvents();
    await loadPolicy(path, { cache });
    const held = cache.size;
    for (let n = 0; n < 20; n++) {
      await writeFile(path, policyText({ 1: `{ type: string, maxLength: ${100 + n} }` }));
      await loadPolicy(path, { cache });
    }
    // The first policy's schemas and the one edited in: no schema of an earlier edit.
    expect(cache.size).to.equal(held + 1);
  });
});
