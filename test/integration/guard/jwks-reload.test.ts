import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ReloadEvent } from "../../../src/index.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { connected, createClient, emitWithReply } from "../../helpers/clients.js";
import { JwksServer } from "../../helpers/jwks-server.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";
import { startGuardedServer } from "../../helpers/guarded-server.js";
import { claimsFor, createSigningKey, signWith, type SigningKey } from "../../helpers/tokens.js";

const IDP = "https://idp.example.test/";

describe("guard: remote JWK sets across reloads", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  let key: SigningKey;
  before(async () => {
    key = await createSigningKey("RS256", "key-1");
  });

  it("keeps the fetched key set through 10 policy edits: one request to the JWKS endpoint in all", async () => {
    const jwks = await JwksServer.start([key.jwk]);
    cleanup.add(() => jwks.close());
    // Each edit changes the policy, the issuer's own entry included (clock tolerance), but not its jwksUri.
    const policy = (edit: number): string =>
      [
        "version: 1",
        "connection: { allowMissingOrigin: true }",
        "auth:",
        `  clockTolerance: ${5 + edit}s`,
        "  issuers:",
        `    idp: { issuer: "${IDP}", jwksUri: "${jwks.url}", audience: chat-api, algorithms: [RS256] }`,
        "namespaces:",
        "  /chat:",
        `    events: { say: { args: [{ type: string, maxLength: ${100 + edit} }] } }`,
      ].join("\n") + "\n";
    const dir = await writePolicyFiles(cleanup, { "policy.yaml": policy(0) });
    const policyFile = join(dir, "policy.yaml");
    const { io, url, guard } = await startGuardedServer(cleanup, { policy: policyFile, watch: false });
    const reloads: ReloadEvent[] = [];
    guard.on("reload", (event) => reloads.push(event));
    io.of("/chat").on("connection", (socket) =>
      socket.on("say", (_text: string, ack: (r: string) => void) => ack("said")),
    );
    const connectWithToken = async (): Promise<ReturnType<typeof createClient>> => {
      const token = await signWith(key, claimsFor(IDP, "chat-api"));
      const client = createClient(cleanup, url, "/chat", { transports: ["websocket"], auth: { token } });
      await connected(client);
      return client;
    };

    const first = await connectWithToken();
    assert.equal(jwks.requests, 1);

    for (let edit = 1; edit <= 10; edit += 1) {
      await writeFile(policyFile, policy(edit));
      const outcome = await guard.reload();
      assert.equal(outcome.ok && outcome.changed, true, `edit ${edit} was not put in force`);
    }
    assert.equal(reloads.length, 10);

    const second = await connectWithToken();
    assert.equal(await emitWithReply(first, "say", "still here"), "said");
    assert.equal(await emitWithReply(second, "say", "x".repeat(110)), "said");
    assert.equal(jwks.requests, 1);
  });
});
