/**
 * How a file appears in a message: relative to the policy's directory when it is inside it (with
 * forward slashes), absolute otherwise. `file://` URLs are shown as paths, keeping their fragment.
 */
import { isAbsolute, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * @example
 * displayPath("file:///srv/policies/schemas/message.json#/$defs/room", "/srv/policies"); // "schemas/message.json#/$defs/room"
 */
export function displayPath(urlOrPath: string, baseDir: string): string {
  let path = urlOrPath;
  let fragment = "";
  if (urlOrPath.startsWith("file:")) {
    const hashAt = urlOrPath.indexOf("#");
    fragment = hashAt === -1 ? "" : urlOrPath.slice(hashAt);
    try {
      path = fileURLToPath(hashAt === -1 ? urlOrPath : urlOrPath.slice(0, hashAt));
    } catch {
      return urlOrPath;
    }
  }
  const shown = relative(baseDir, path);
  if (shown === "") return "." + fragment;
  return (
    (shown === ".." || shown.startsWith(`..${sep}`) || isAbsolute(shown)
      ? path
      : shown.split(sep).join("/")) + fragment
  );
}
