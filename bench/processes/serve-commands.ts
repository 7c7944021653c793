/**
 * The helper's side of {@link HelperProcess}: answer the parent's commands over IPC, and exit
 * when the parent asks or disappears.
 */
import type { CommandMessage, ReplyMessage } from "./child-process.js";

/** A command handler; its result must survive structured cloning. */
export type CommandHandler = (args: never) => unknown;

/**
 * Serves `handlers` (plus `ping` and `exit`) until the parent disconnects. `onExit` runs before
 * the process exits, to close servers and sockets.
 *
 * @example
 * serveCommands({ start: (args: StartArgs) => startServer(args) }, () => server?.close());
 */
export function serveCommands(
  handlers: Readonly<Record<string, CommandHandler>>,
  onExit: () => unknown = () => undefined,
): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error("a benchmark helper must be started with an IPC channel (HelperProcess)");
  let exiting = false;
  const exit = async (): Promise<void> => {
    if (exiting) return;
    exiting = true;
    try {
      await onExit();
    } finally {
      process.exit(0);
    }
  };
  process.on("disconnect", () => void exit());
  process.on("message", (message: CommandMessage) => {
    void (async (): Promise<void> => {
      let reply: ReplyMessage;
      try {
        if (message.command === "exit") {
          send({ id: message.id, ok: true, result: null } satisfies ReplyMessage);
          await exit();
          return;
        }
        const handler = message.command === "ping" ? () => null : handlers[message.command];
        if (!handler) throw new Error(`unknown command ${message.command}`);
        reply = { id: message.id, ok: true, result: await handler(message.args as never) };
      } catch (error) {
        reply = { id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) };
      }
      send(reply);
    })();
  });
}
