// @ts-check
/**
 * The chat itself: what `/chat` does with the events the guard lets through. There is no
 * validation here on purpose: every argument that reaches these handlers has already matched its
 * schema in `policies/chat.yaml`, and its sender holds the claims the policy requires.
 */

/**
 * Registers the `/chat` handlers: `join` a room, send a `message` to the room or to everyone,
 * and tell others you are `typing`.
 *
 * @example
 * registerChatHandlers(io.of("/chat"));
 *
 * The namespace is typed from `sockguard-events.ts`, generated from the policy
 * (`sockguard types policies/chat.yaml --out examples/chat/sockguard-events.ts`): the handlers'
 * arguments, their acks and every emit are checked against the policy's declarations.
 *
 * @param {import("socket.io").Namespace<
 *   import("./sockguard-events.js").ChatClientToServerEvents,
 *   import("./sockguard-events.js").ChatServerToClientEvents,
 *   {},
 *   import("./sockguard-events.js").SocketData
 * >} chat
 */
export function registerChatHandlers(chat) {
  chat.on("connection", (socket) => {
    // The verified identity, a frozen copy the guard leaves for the app.
    const user = socket.data.sockguard?.subject ?? "anonymous";
    /** @type {string | undefined} */
    let currentRoom;

    socket.on("join", ({ room }, ack) => {
      if (currentRoom) socket.leave(currentRoom);
      currentRoom = room;
      socket.join(room);
      if (typeof ack === "function") ack({ ok: true, room });
    });

    socket.on("message", ({ text, room }, ack) => {
      if (room !== undefined && !socket.rooms.has(room)) {
        if (typeof ack === "function")
          ack({ error: { code: "not_in_room", message: "Join the room first" } });
        return;
      }
      const message = { from: user, text, room: room ?? null, at: Date.now() };
      (room === undefined ? chat : chat.to(room)).emit("message", message);
      if (typeof ack === "function") ack({ ok: true });
    });

    socket.on("typing", (isTyping) => {
      socket.broadcast.emit("typing", { from: user, typing: isTyping });
    });
  });
}
