/**
 * Which Socket.IO the guard supports, and how it finds the version of the one it is asked to guard.
 *
 * The guard relies on private parts of Socket.IO and engine.io (src/enforce/socket-io-internals.ts),
 * pinned by canary tests against these ranges only. Another version may have moved one of them and
 * silently opened a hole, so `sockguard()` refuses it rather than guess.
 *
 * The version that matters is that of the copy the app's `Server` was made from, which is not
 * necessarily the one sockguard itself would resolve (two copies in one app: `npm link`, a workspace,
 * a nested install). The guard imports nothing of Socket.IO at run time and acts only on the server
 * it is given, so it finds that server's own package: the loaded `socket.io` module whose `Server`
 * class the object is an instance of, and the `engine.io` that copy loads.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import semver from "semver";
import type { Server } from "socket.io";

/** The Socket.IO versions the guard supports (also the `socket.io` peer dependency range). */
export const SUPPORTED_SOCKET_IO = "~4.8.0";
/** The engine.io versions the guard supports (what Socket.IO 4.8 depends on). */
export const SUPPORTED_ENGINE_IO = "~6.6.0";

/** The versions of the Socket.IO stack one server runs on. */
export interface SocketIoVersions {
  readonly socketIo: string;
  /** Undefined when the engine.io that Socket.IO copy loads cannot be found. */
  readonly engineIo: string | undefined;
}

const require = createRequire(import.meta.url);

/**
 * What is wrong with a Socket.IO stack for the guard, or undefined when it is supported. Pure: the
 * versions come from {@link socketIoVersionsOf}.
 *
 * @example
 * checkSocketIoVersion({ socketIo: "4.8.1", engineIo: "6.6.4" }); // undefined
 * checkSocketIoVersion({ socketIo: "4.7.5", engineIo: "6.5.5" }); // "Socket.IO 4.7.5 is not supported ..."
 */
export function checkSocketIoVersion(versions: SocketIoVersions): string | undefined {
  const supported = `socket.io ${SUPPORTED_SOCKET_IO} with engine.io ${SUPPORTED_ENGINE_IO}`;
  if (!semver.satisfies(versions.socketIo, SUPPORTED_SOCKET_IO)) {
    return `Socket.IO ${versions.socketIo} is not supported (sockguard supports ${supported}): install socket.io@"${SUPPORTED_SOCKET_IO}"`;
  }
  if (versions.engineIo === undefined) {
    return `the engine.io that Socket.IO ${versions.socketIo} loads cannot be found (sockguard supports ${supported})`;
  }
  if (!semver.satisfies(versions.engineIo, SUPPORTED_ENGINE_IO)) {
    return `engine.io ${versions.engineIo} (under Socket.IO ${versions.socketIo}) is not supported (sockguard supports ${supported}): reinstall socket.io@"${SUPPORTED_SOCKET_IO}"`;
  }
  return undefined;
}

/**
 * The versions of the Socket.IO package `io` was created from, or undefined when `io` is not a
 * `Server` of any Socket.IO package loaded through Node's module loader (a bundled server, or not
 * a Socket.IO server at all). Socket.IO 4 is CommonJS, and an ESM `import` of it loads the same
 * module, so every copy in use appears in the loader's cache.
 *
 * @example
 * socketIoVersionsOf(new Server()); // { socketIo: "4.8.1", engineIo: "6.6.4" }
 */
export function socketIoVersionsOf(io: Server): SocketIoVersions | undefined {
  for (const [file, loaded] of Object.entries(require.cache)) {
    if (!file.replaceAll("\\", "/").endsWith("/socket.io/dist/index.js")) continue;
    const exported = loaded?.exports as { Server?: unknown } | undefined;
    if (typeof exported?.Server !== "function" || !(io instanceof exported.Server)) continue;
    const socketIo = packageVersion(join(dirname(file), "..", "package.json"), "socket.io");
    if (socketIo === undefined) continue;
    return { socketIo, engineIo: engineIoVersionFor(file) };
  }
  return undefined;
}

/**
 * Throws, saying why, unless `io` is a server of a supported Socket.IO.
 *
 * @example
 * refuseUnsupportedSocketIo(io); // before any hook is registered
 */
export function refuseUnsupportedSocketIo(io: Server): void {
  const versions = socketIoVersionsOf(io);
  if (versions === undefined) {
    throw new Error(
      "sockguard: the first argument is not a server of an installed Socket.IO package, so the guard " +
        `cannot tell its version (sockguard supports socket.io ${SUPPORTED_SOCKET_IO}). Pass the ` +
        '`new Server()` of the app\'s own "socket.io" (a bundled copy of Socket.IO cannot be checked).',
    );
  }
  const problem = checkSocketIoVersion(versions);
  if (problem !== undefined) throw new Error(`sockguard: ${problem}`);
}

/** The version of the engine.io package that the Socket.IO module at `socketIoFile` loads. */
function engineIoVersionFor(socketIoFile: string): string | undefined {
  let entry: string;
  try {
    entry = createRequire(socketIoFile).resolve("engine.io");
  } catch {
    return undefined;
  }
  // engine.io does not export its package.json: walk up from its entry file to its package.
  for (let directory = dirname(entry); directory !== dirname(directory); directory = dirname(directory)) {
    const version = packageVersion(join(directory, "package.json"), "engine.io");
    if (version !== undefined) return version;
  }
  return undefined;
}

/** The `version` of the package.json at `path` when it names the package `name`. */
function packageVersion(path: string, name: string): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(path, "utf8")) as { name?: unknown; version?: unknown };
    return manifest.name === name && typeof manifest.version === "string" ? manifest.version : undefined;
  } catch {
    return undefined;
  }
}
