/**
 * An ajv `instancePath` made safe to send back: each segment that is an object key the client
 * chose becomes the placeholder `*`, unless the schema names that property itself. Array indexes
 * (digits only) stay. Run only on the failure path: allowed events never pay for it.
 */

/** What a client-chosen property name is replaced with in `details[].instancePath`. */
export const CLIENT_NAME_PLACEHOLDER = "*";

const INDEX = /^(?:0|[1-9][0-9]*)$/;

/**
 * `path` (a JSON pointer into one argument) with every segment that is neither an array index nor
 * one of `named` (unescaped property names the schema names) replaced by {@link CLIENT_NAME_PLACEHOLDER}.
 *
 * @example
 * redactInstancePath("/tags/\u001b[31mred/3", new Set(["tags"])); // "/tags/*\/3"
 */
export function redactInstancePath(path: string, named: ReadonlySet<string>): string {
  if (path === "") return path;
  let redacted = "";
  for (const segment of path.slice(1).split("/")) {
    const name = segment.replaceAll("~1", "/").replaceAll("~0", "~");
    redacted += `/${INDEX.test(segment) || named.has(name) ? segment : CLIENT_NAME_PLACEHOLDER}`;
  }
  return redacted;
}
