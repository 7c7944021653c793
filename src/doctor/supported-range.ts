/** The socket.io versions the guard is built and tested against (its peer dependency range). */

/**
 * A socket.io outside this range may have changed the internals the guard relies on (DESIGN §7):
 * `sockguard doctor` warns about such a copy.
 *
 * @example
 * semver.satisfies("4.8.4", SUPPORTED_SOCKET_IO_RANGE); // true
 */
export const SUPPORTED_SOCKET_IO_RANGE = "~4.8.0";
