/** Finding installed copies in real node_modules trees written by the test. */
import { strict as assert } from "node:assert";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { scanInstalledStack } from "../../../src/doctor/scan.js";
import { Cleanup } from "../../helpers/cleanup.js";
import { writeInstall } from "../../helpers/installed-packages.js";

const found = (packages: readonly { name: string; version: string; dir: string }[], root: string) =>
  packages.map((p) => `${p.name}@${p.version} ${p.dir.slice(root.length + 1)}`).sort();

describe("doctor: scanning node_modules", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("finds top-level, nested and scoped copies, and ignores packages outside the stack", async () => {
    const root = await writeInstall(cleanup, {
      "node_modules/socket.io": "4.8.1",
      "node_modules/engine.io": "6.6.5",
      "node_modules/engine.io/node_modules/ws": "8.17.0",
      "node_modules/some-lib/node_modules/socket.io-client": "4.7.0",
      "node_modules/@scope/tool/node_modules/ws": "7.4.5",
      "node_modules/express": "4.21.0",
    });
    const { packages, truncated } = await scanInstalledStack(root);
    assert.equal(truncated, false);
    assert.deepEqual(found(packages, root), [
      "engine.io@6.6.5 node_modules/engine.io",
      "socket.io-client@4.7.0 node_modules/some-lib/node_modules/socket.io-client",
      "socket.io@4.8.1 node_modules/socket.io",
      "ws@7.4.5 node_modules/@scope/tool/node_modules/ws",
      "ws@8.17.0 node_modules/engine.io/node_modules/ws",
    ]);
  });

  it("walks pnpm's .pnpm store and counts a linked copy once, at its top-level path", async () => {
    const root = await writeInstall(cleanup, {
      "node_modules/.pnpm/socket.io@4.8.1/node_modules/socket.io": "4.8.1",
      "node_modules/.pnpm/engine.io@6.6.4/node_modules/engine.io": "6.6.4",
    });
    await symlink(
      join(root, "node_modules/.pnpm/socket.io@4.8.1/node_modules/socket.io"),
      join(root, "node_modules/socket.io"),
    );
    const { packages } = await scanInstalledStack(root);
    assert.deepEqual(found(packages, root), [
      "engine.io@6.6.4 node_modules/.pnpm/engine.io@6.6.4/node_modules/engine.io",
      "socket.io@4.8.1 node_modules/socket.io",
    ]);
  });

  it("ends a symlink loop instead of following it", async () => {
    const root = await writeInstall(cleanup, { "node_modules/a/node_modules/ws": "8.18.0" });
    await symlink(join(root, "node_modules"), join(root, "node_modules/a/node_modules/loop"));
    const { packages, truncated } = await scanInstalledStack(root);
    assert.equal(truncated, false);
    assert.deepEqual(found(packages, root), ["ws@8.18.0 node_modules/a/node_modules/ws"]);
  });

  it("stops at the directory limit and says so", async () => {
    const install: Record<string, string> = {};
    for (let i = 0; i < 20; i++) install[`node_modules/pkg-${i}`] = "1.0.0";
    const root = await writeInstall(cleanup, install);
    const { truncated } = await scanInstalledStack(root, { maxDirectories: 5 });
    assert.equal(truncated, true);
  });

  it("reports a stack package whose package.json is not its own or has no valid version", async () => {
    const root = await writeInstall(cleanup, { "node_modules/socket.io": "4.8.1" });
    await mkdir(join(root, "node_modules/ws"));
    await writeFile(
      join(root, "node_modules/ws/package.json"),
      JSON.stringify({ name: "ws", version: "latest" }),
    );
    const { packages, unreadable } = await scanInstalledStack(root);
    assert.deepEqual(found(packages, root), ["socket.io@4.8.1 node_modules/socket.io"]);
    assert.deepEqual(unreadable, [join(root, "node_modules/ws")]);
  });
});
