/** The `code` of a Node.js system error (`ENOENT`, `EACCES`...), or `"unknown"`. */
export function errorCode(error: unknown): string {
  if (error instanceof Error && "code" in error && typeof error.code === "string") return error.code;
  return "unknown";
}
