/**
 * TypeScript names derived from a policy's namespaces and events: PascalCase runs of letters and
 * digits (`/chat` → `Chat`, `/` → `Root`, `/tenant-{tenant}` → `TenantTenant`, `new-message` →
 * `NewMessage`), made unique within one generated file.
 */

/**
 * @example
 * pascalName("/chat"); // "Chat"
 * pascalName("/"); // "Root"
 */
export function pascalName(text: string, empty = "Root"): string {
  const words = text.match(/[A-Za-z0-9]+/g) ?? [];
  const joined = words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join("");
  if (joined === "") return empty;
  return /^[0-9]/.test(joined) ? `N${joined}` : joined;
}

/**
 * Hands out names, appending a number to one already taken (`ChatMessage`, `ChatMessage2`).
 *
 * @example
 * const names = uniqueNames(); names("ChatMessage"); names("ChatMessage"); // "ChatMessage2"
 */
export function uniqueNames(): (wanted: string) => string {
  const taken = new Set<string>();
  return (wanted) => {
    let name = wanted;
    for (let n = 2; taken.has(name); n++) name = `${wanted}${n}`;
    taken.add(name);
    return name;
  };
}
