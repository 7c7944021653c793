import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { EventEmitter } from "node:events";
import { Server } from "socket.io";
import type { Server as ServerType } from "socket.io";
import {
  checkSocketIoVersion,
  refuseUnsupportedSocketIo,
  socketIoVersionsOf,
  SUPPORTED_ENGINE_IO,
  SUPPORTED_SOCKET_IO,
} from "../../../src/socketio-support.js";

const manifest = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
  peerDependencies: Record<string, string>;
};

describe("supported Socket.IO versions", () => {
  it("accepts every Socket.IO 4.8.x on engine.io 6.6.x", () => {
    for (const socketIo of ["4.8.0", "4.8.1", "4.8.4", "4.8.99"]) {
      assert.equal(checkSocketIoVersion({ socketIo, engineIo: "6.6.4" }), undefined, socketIo);
    }
  });

  it("refuses an older or newer Socket.IO, naming its version and the supported range", () => {
    for (const socketIo of ["4.7.5", "4.0.0", "3.1.2", "4.9.0", "5.0.0", "4.8.0-rc.1", "not-a-version"]) {
      const problem = checkSocketIoVersion({ socketIo, engineIo: "6.6.4" });
      assert.ok(problem?.startsWith(`Socket.IO ${socketIo} is not supported`), `${socketIo}: ${problem}`);
      assert.ok(problem?.includes(`socket.io ${SUPPORTED_SOCKET_IO} with engine.io ${SUPPORTED_ENGINE_IO}`));
    }
  });

  it("refuses a supported Socket.IO on an engine.io outside 6.6, or on none found", () => {
    for (const engineIo of ["6.5.5", "6.7.0", "7.0.0"]) {
      const problem = checkSocketIoVersion({ socketIo: "4.8.1", engineIo });
      assert.ok(
        problem?.startsWith(`engine.io ${engineIo} (under Socket.IO 4.8.1) is not supported`),
        problem,
      );
    }
    const missing = checkSocketIoVersion({ socketIo: "4.8.1", engineIo: undefined });
    assert.ok(missing?.includes("engine.io that Socket.IO 4.8.1 loads cannot be found"), missing);
  });

  it("is the range package.json declares for the socket.io peer dependency", () => {
    assert.equal(manifest.peerDependencies["socket.io"], SUPPORTED_SOCKET_IO);
  });

  it("reads the version of the installed copy a real Server comes from", () => {
    const installed = JSON.parse(
      readFileSync(new URL("../../../node_modules/socket.io/package.json", import.meta.url), "utf8"),
    ) as { version: string };
    const io = new Server();
    try {
      const versions = socketIoVersionsOf(io);
      assert.equal(versions?.socketIo, installed.version);
      assert.match(versions?.engineIo ?? "", /^6\.6\./);
      assert.doesNotThrow(() => refuseUnsupportedSocketIo(io));
    } finally {
      void io.close();
    }
  });

  it("refuses an object that is no Socket.IO Server, saying it cannot tell the version", () => {
    const impostor = new EventEmitter() as unknown as ServerType;
    assert.equal(socketIoVersionsOf(impostor), undefined);
    assert.throws(
      () => refuseUnsupportedSocketIo(impostor),
      /not a server of an installed Socket\.IO package/,
    );
  });
});
