/**
 * `schemas/policy.schema.json`, the one structural truth of the language: it compiles in strict
 * mode, closes every object of the policy's own structure, documents every property for editors,
 * and matches the TypeScript types in `src/policy/types.ts` key for key.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { parse } from "yaml";
import { Ajv2020 } from "ajv/dist/2020.js";
import { createPolicySchemaAjv, POLICY_SCHEMA_PATH } from "../../../src/policy/policy-schema.js";
import { JWS_ALGORITHMS } from "../../../src/policy/algorithms.js";
import type { JsonObject, JsonValue } from "../../../src/policy/types.js";

const schema = JSON.parse(readFileSync(POLICY_SCHEMA_PATH, "utf8")) as JsonObject;
const TYPES_PATH = fileURLToPath(new URL("../../../src/policy/types.ts", import.meta.url));

const isObject = (value: JsonValue | undefined): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Resolves `#/$defs/...` and `#/...` pointers inside the schema. */
function at(pointer: string): JsonObject {
  let current: JsonValue = schema;
  for (const segment of pointer.replace(/^#\/?/, "").split("/").filter(Boolean)) {
    current = (current as JsonObject)[segment]!;
  }
  return current as JsonObject;
}

/** Every schema object in the file with its pointer, walked through every keyword that holds schemas. */
function allSubschemas(): { pointer: string; node: JsonObject }[] {
  const found: { pointer: string; node: JsonObject }[] = [];
  const visit = (node: JsonValue, pointer: string): void => {
    if (!isObject(node)) return;
    found.push({ pointer, node });
    for (const keyword of ["items", "additionalProperties", "propertyNames", "if", "then", "else"]) {
      if (isObject(node[keyword])) visit(node[keyword], `${pointer}/${keyword}`);
    }
    if (Array.isArray(node.anyOf))
      node.anyOf.forEach((branch, index) => visit(branch, `${pointer}/anyOf/${index}`));
    for (const keyword of ["properties", "$defs"]) {
      if (isObject(node[keyword])) {
        for (const [name, child] of Object.entries(node[keyword]))
          visit(child, `${pointer}/${keyword}/${name}`);
      }
    }
  };
  visit(schema, "#");
  return found;
}

/** Schema objects that describe something other than the policy's own structure. */
const FOREIGN_OBJECTS = new Set([
  "#/$defs/jwks/properties/keys/items", // a JSON Web Key: its members are defined by RFC 7517
  "#/$defs/argSpec/if", // the test that tells a binary argument from a JSON Schema
]);

describe("schemas/policy.schema.json", () => {
  it("is a valid draft 2020-12 schema and compiles in Ajv's strict mode", () => {
    const meta = new Ajv2020();
    expect(meta.validateSchema(schema), JSON.stringify(meta.errors)).to.equal(true);
    expect(schema.$schema).to.equal("https://json-schema.org/draft/2020-12/schema");
    expect(() => createPolicySchemaAjv().compile(schema)).to.not.throw();
  });

  it("compiles in a plain new Ajv2020(), strict defaults, with nothing logged, and accepts policies/chat.yaml", () => {
    const logged: unknown[][] = [];
    const record = (...args: unknown[]): void => void logged.push(args);
    const ajv = new Ajv2020({ logger: { log: record, warn: record, error: record } });
    const validate = ajv.compile(schema);
    expect(logged).to.deep.equal([]);
    const chat = parse(
      readFileSync(new URL("../../../policies/chat.yaml", import.meta.url), "utf8"),
    ) as unknown;
    expect(validate(chat), JSON.stringify(validate.errors)).to.equal(true);
    expect(validate({ version: 1, namespaces: { chat: {} } })).to.equal(false);
  });

  it("refuses unknown keys in every object of the policy's own structure", () => {
    for (const { pointer, node } of allSubschemas()) {
      if (node.properties === undefined || FOREIGN_OBJECTS.has(pointer)) continue;
      expect(node.additionalProperties, pointer).to.equal(false);
    }
  });

  it("types the values of every map (namespaces, events, issuers, require)", () => {
    for (const pointer of [
      "#/$defs/namespaces",
      "#/$defs/namespace/properties/events",
      "#/$defs/namespace/properties/emits",
      "#/$defs/auth/properties/issuers",
      "#/$defs/claimsRequirement",
    ]) {
      expect(at(pointer).additionalProperties, pointer).to.have.property("$ref");
    }
  });

  it("describes every property, for the editor's hover", () => {
    let count = 0;
    for (const { pointer, node } of allSubschemas()) {
      if (!isObject(node.properties)) continue;
      for (const [name, property] of Object.entries(node.properties)) {
        count += 1;
        expect((property as JsonObject).description, `${pointer}/properties/${name}`)
          .to.be.a("string")
          .and.not.equal("");
      }
    }
    expect(count).to.be.above(30);
  });

  it("writes in the defaults the language applies", () => {
    expect(at("#/$defs/connection/properties/origins").default).to.deep.equal([]);
    expect(at("#/$defs/connection/properties/allowMissingOrigin").default).to.equal(false);
    expect(at("#/$defs/connection/properties/transports").default).to.deep.equal(["polling", "websocket"]);
    expect(at("#/$defs/connection/properties/requireTls").default).to.equal(false);
    expect(at("#/$defs/connection/properties/maxPayload").default).to.equal("1MB");
    expect(at("#/$defs/connection/properties/maxDenials").default).to.equal("20/1m");
    expect(at("#/$defs/auth/properties/tokenFrom").default).to.deep.equal([
      "auth.token",
      "header.authorization",
    ]);
    expect(at("#/$defs/auth/properties/clockTolerance").default).to.equal("5s");
    expect(at("#/$defs/namespace/properties/auth").default).to.equal("required");
    expect(at("#/$defs/namespace/properties/unknownEvents").default).to.equal("reject");
    const examples = allSubschemas().filter(({ node }) => Array.isArray(node.examples));
    expect(examples.length).to.be.above(15);
  });

  it("lists exactly the JWS algorithms the loader accepts, never none", () => {
    const algorithms = at("#/$defs/issuer/properties/algorithms/items").enum as string[];
    expect(algorithms).to.deep.equal([...JWS_ALGORITHMS]);
    expect(algorithms).to.not.include("none");
  });

  describe("and src/policy/types.ts cannot drift apart", () => {
    const source = ts.createSourceFile(
      TYPES_PATH,
      readFileSync(TYPES_PATH, "utf8"),
      ts.ScriptTarget.ES2022,
      true,
    );

    /** Property names of an interface (or of a type literal inside one), with whether each is optional. */
    function membersOf(members: ts.NodeArray<ts.TypeElement>): Map<string, boolean> {
      const found = new Map<string, boolean>();
      for (const member of members) {
        if (ts.isPropertySignature(member))
          found.set(member.name.getText(source).replace(/^"|"$/g, ""), !!member.questionToken);
      }
      return found;
    }
    function declaration<T extends ts.Node>(name: string, guard: (node: ts.Node) => node is T): T {
      for (const statement of source.statements) {
        if (guard(statement) && (statement as unknown as { name: ts.Identifier }).name.text === name)
          return statement;
      }
      throw new Error(`src/policy/types.ts declares no ${name}`);
    }
    const interfaceMembers = (name: string): Map<string, boolean> =>
      membersOf(declaration(name, ts.isInterfaceDeclaration).members);
    /** A type literal at `property` of an interface, or inside a union alias (`{ all: ... }`). */
    function literalMembers(node: ts.TypeNode | undefined): Map<string, boolean> {
      if (node && ts.isTypeLiteralNode(node)) return membersOf(node.members);
      if (node && ts.isUnionTypeNode(node)) {
        for (const member of node.types) if (ts.isTypeLiteralNode(member)) return membersOf(member.members);
      }
      throw new Error("no type literal there");
    }
    const propertyType = (interfaceName: string, property: string): ts.TypeNode | undefined =>
      declaration(interfaceName, ts.isInterfaceDeclaration)
        .members.filter(ts.isPropertySignature)
        .find((member) => member.name.getText(source) === property)?.type;
    /** String literals of a union type. */
    function literals(node: ts.TypeNode | undefined): string[] {
      if (!node || !ts.isUnionTypeNode(node)) throw new Error("not a union");
      return node.types.map((type) => {
        if (ts.isLiteralTypeNode(type) && ts.isStringLiteral(type.literal)) return type.literal.text;
        throw new Error("not a string literal");
      });
    }

    /** The TypeScript side of each schema object with properties. */
    const TYPES_BY_SCHEMA: Record<string, () => Map<string, boolean>> = {
      "#": () => interfaceMembers("Policy"),
      "#/$defs/connection": () => interfaceMembers("ConnectionPolicy"),
      "#/$defs/tls": () => interfaceMembers("TlsPolicy"),
      "#/$defs/auth": () => interfaceMembers("AuthPolicy"),
      "#/$defs/issuer": () => interfaceMembers("IssuerPolicy"),
      "#/$defs/jwks": () => literalMembers(propertyType("IssuerPolicy", "jwks")),
      "#/$defs/namespace": () => interfaceMembers("NamespacePolicy"),
      "#/$defs/event": () => interfaceMembers("EventPolicy"),
      "#/$defs/handshake": () => interfaceMembers("HandshakePolicy"),
      "#/$defs/message": () => interfaceMembers("MessagePolicy"),
      "#/$defs/binaryArg": () => interfaceMembers("BinaryArg"),
      "#/$defs/binaryArg/properties/binary": () => literalMembers(propertyType("BinaryArg", "binary")),
      "#/$defs/claimRequirement/anyOf/4": () =>
        literalMembers(declaration("ClaimRequirement", ts.isTypeAliasDeclaration).type),
      "#/$defs/rateLimit/anyOf/1": () =>
        literalMembers(declaration("RateLimitPolicy", ts.isTypeAliasDeclaration).type),
    };

    it("maps every object of the schema to a type", () => {
      const objects = allSubschemas()
        .filter(({ pointer, node }) => isObject(node.properties) && !FOREIGN_OBJECTS.has(pointer))
        .map(({ pointer }) => pointer);
      expect(objects.sort()).to.deep.equal(Object.keys(TYPES_BY_SCHEMA).sort());
    });

    for (const [pointer, typeMembers] of Object.entries(TYPES_BY_SCHEMA)) {
      it(`has the same keys, and the same required keys, at ${pointer}`, () => {
        const node = at(pointer);
        const members = typeMembers();
        expect(Object.keys(node.properties as JsonObject).sort()).to.deep.equal([...members.keys()].sort());
        const required = [...members].filter(([, optional]) => !optional).map(([name]) => name);
        expect(((node.required as string[] | undefined) ?? []).slice().sort()).to.deep.equal(required.sort());
      });
    }

    it("has the same transports, auth modes, ack modes, unknownEvents and TLS version choices", () => {
      expect(at("#/$defs/event/properties/ack").enum).to.deep.equal(
        literals(declaration("AckMode", ts.isTypeAliasDeclaration).type),
      );
      expect(at("#/$defs/tls/properties/minVersion").enum).to.deep.equal(
        literals(declaration("TlsVersion", ts.isTypeAliasDeclaration).type),
      );
      expect(at("#/$defs/connection/properties/transports/items").enum).to.deep.equal(
        literals(declaration("TransportName", ts.isTypeAliasDeclaration).type),
      );
      expect(at("#/$defs/namespace/properties/auth").enum).to.deep.equal(
        literals(declaration("AuthMode", ts.isTypeAliasDeclaration).type),
      );
      expect(at("#/$defs/namespace/properties/unknownEvents").enum).to.deep.equal(
        literals(propertyType("NamespacePolicy", "unknownEvents")),
      );
    });
  });
});
