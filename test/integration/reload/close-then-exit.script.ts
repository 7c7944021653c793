// Run in a child process by close-then-exit.test.ts: uses a watcher and a reloader, closes both
// while a change is still in its debounce, and must then exit on its own (no handle left).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadPolicy } from "../../../src/policy/load.js";
import { PolicyReloader } from "../../../src/reload/reloader.js";
import { watchPolicyFiles } from "../../../src/reload/watcher.js";

const dir = process.argv[2];
if (dir === undefined) throw new Error("usage: close-then-exit.script.ts DIR");
const file = join(dir, "policy.yaml");
await writeFile(file, "version: 1\nnamespaces:\n  /:\n    auth: none\n    events: {}\n");

let changes = 0;
const watcher = watchPolicyFiles({
  // A file in a directory that does not exist yet: its ancestor is watched too.
  files: [file, join(dir, "schemas", "missing.json")],
  onChange: () => {
    changes += 1;
  },
});
await watcher.whenReady();

const reloader = new PolicyReloader({ path: file, load: loadPolicy, apply: () => ({}) });
const first = await reloader.start();
if (first.status !== "applied") throw new Error(`the first load did not apply: ${first.status}`);

await writeFile(file, "version: 1\nnamespaces: {}\n");
while (changes === 0) await new Promise((resolve) => setTimeout(resolve, 10));

// Leave a change in its debounce when closing.
await writeFile(file, "version: 1\nnamespaces:\n  /chat:\n    auth: none\n    events: {}\n");
await new Promise((resolve) => setTimeout(resolve, 30));
await Promise.all([watcher.close(), reloader.close()]);
process.stdout.write("closed\n");
