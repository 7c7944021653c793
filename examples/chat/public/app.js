// The chat page: asks the demo issuer for a token, connects to /chat with it, and shows what the
// guard decided: the connection's status (or the code it was refused with), the messages, and the
// code of any refused event, from its acknowledgement and from the guard's `sockguard:denied`.
// The state is also kept in data- attributes (data-state, data-code, data-transport) for styling.

const element = (id) => document.getElementById(id);
const ACK_TIMEOUT_MS = 5000;
const TRANSPORT_NAMES = { websocket: "WebSocket", polling: "HTTP long-polling" };

/** @type {ReturnType<typeof io> | null} */
let socket = null;
let currentRoom = "";
let typingSent = false;
/** The code of the last `sockguard:denied`, to explain a disconnect by the guard. */
let lastDenial = null;

function setStatus(state, text, { code = "", transport = "" } = {}) {
  const status = element("status");
  status.dataset.state = state;
  status.dataset.code = code;
  status.dataset.transport = transport;
  status.textContent = text;
}

/** ", try again in 3 s" for a refusal that says how long to wait (`rate_limited`), else nothing. */
function waitText(body) {
  const wait = body?.retryAfterMs;
  return typeof wait === "number" ? `, try again in ${Math.max(1, Math.ceil(wait / 1000))} s` : "";
}

function showNotice(code, text) {
  const notice = element("notice");
  notice.dataset.code = code;
  notice.textContent = text;
}

function addLine(className, from, text) {
  const item = document.createElement("li");
  item.className = className;
  if (from) {
    const author = document.createElement("span");
    author.className = "from";
    author.textContent = from;
    item.append(author);
  }
  // textContent, never innerHTML: a message is text, whatever it contains.
  item.append(document.createTextNode(text));
  const list = element("messages");
  list.append(item);
  list.scrollTop = list.scrollHeight;
}

async function fetchToken(ttl) {
  const url = new URL("/demo-token", window.location.href);
  url.searchParams.set("user", element("user").value.trim());
  url.searchParams.set("scopes", element("scopes").value.trim());
  url.searchParams.set("ttl", ttl);
  const response = await fetch(url);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error);
  return body.token;
}

function disconnect() {
  if (!socket) return;
  socket.disconnect();
  socket = null;
}

async function connect() {
  disconnect();
  currentRoom = "";
  typingSent = false;
  element("current-room").textContent = "everyone";
  showNotice("", "");
  setStatus("connecting", "Getting a token…");

  const ttl = element("token-ttl").value;
  const auth = {};
  if (ttl !== "none") {
    try {
      auth.token = await fetchToken(ttl);
    } catch (error) {
      setStatus("error", `The demo issuer refused: ${error.message}`);
      return;
    }
  }

  setStatus("connecting", "Connecting…");
  const user = element("user").value.trim() || "anonymous";
  const current = io("/chat", { auth, forceNew: true });
  socket = current;
  lastDenial = null;

  const showConnected = () => {
    const transport = current.io.engine?.transport?.name ?? "";
    setStatus("connected", `Connected as ${user} over ${TRANSPORT_NAMES[transport] ?? transport}`, {
      transport,
    });
  };
  // The engine opens over polling and then upgrades to WebSocket; show the transport in use.
  current.io.on("open", () => {
    current.io.engine.on("upgrade", () => {
      if (current.connected) showConnected();
    });
  });

  current.on("connect", showConnected);
  current.on("connect_error", (error) => {
    // A namespace refusal carries the guard's code; a refused handshake only says it failed.
    const code = error.data?.code ?? "";
    const text = code
      ? `Refused: ${code} (${error.data.message})${waitText(error.data)}`
      : `Cannot connect: ${error.message}`;
    setStatus("refused", text, { code });
  });
  current.on("disconnect", (reason) => {
    if (reason === "io client disconnect") {
      setStatus("disconnected", "Disconnected");
    } else if (reason === "io server disconnect") {
      const code = lastDenial ?? "";
      setStatus("refused", `Disconnected by the server${code ? `: ${code}` : ""}`, { code });
    } else {
      setStatus("connecting", `Connection lost (${reason}); reconnecting…`);
    }
  });

  current.on("message", ({ from, text, room }) =>
    addLine("message", from, room ? `[${room}] ${text}` : text),
  );
  current.on("typing", ({ from, typing }) => {
    element("typing").textContent = typing ? `${from} is typing…` : "";
  });
  current.on("sockguard:denied", (denial) => {
    const { event, code, message } = denial;
    lastDenial = code;
    // `event` is present only for an event the policy declares; a disconnect carries none.
    const what = event ? `The guard refused “${event}”` : "The guard";
    addLine("denied", "", `${what}: ${code} (${message})${waitText(denial)}`);
  });
}

/** Emits with an acknowledgement and shows a refusal's code beside the composer. */
function emitWithAck(event, payload, onOk) {
  if (!socket?.connected) {
    showNotice("not_connected", "Connect first");
    return;
  }
  showNotice("pending", "");
  socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, (timeout, reply) => {
    if (timeout) {
      showNotice("timeout", `No answer to “${event}”`);
    } else if (reply?.error) {
      showNotice(
        reply.error.code,
        `“${event}” refused: ${reply.error.code} (${reply.error.message})${waitText(reply.error)}`,
      );
    } else {
      showNotice("", "");
      onOk(reply);
    }
  });
}

function sendTyping(isTyping) {
  if (!socket?.connected || typingSent === isTyping) return;
  typingSent = isTyping;
  socket.emit("typing", isTyping);
}

element("connect-form").addEventListener("submit", (event) => {
  event.preventDefault();
  connect();
});

element("disconnect").addEventListener("click", () => {
  disconnect();
  setStatus("disconnected", "Disconnected");
});

element("room-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const room = element("room").value.trim();
  emitWithAck("join", { room }, () => {
    currentRoom = room;
    element("current-room").textContent = room;
  });
});

element("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = element("text");
  // Sent as typed, even empty or too long: the policy, not the page, decides what is valid.
  const payload = currentRoom ? { text: input.value, room: currentRoom } : { text: input.value };
  emitWithAck("message", payload, () => {
    input.value = "";
  });
  sendTyping(false);
});

element("text").addEventListener("input", (event) => sendTyping(event.target.value !== ""));

// The guard's latest decisions, from the demo server, refreshed every second while the page is open.
const DECISIONS_REFRESH_MS = 1000;

function showDecisions(decisions) {
  const rows = decisions.map((decision) => {
    const row = document.createElement("tr");
    row.dataset.code = decision.code;
    row.className = decision.allowed ? "allowed" : "refused";
    for (const value of [decision.code, decision.namespace, decision.event, decision.rule]) {
      const cell = document.createElement("td");
      cell.textContent = value;
      row.append(cell);
    }
    return row;
  });
  element("decisions").replaceChildren(...rows);
}

async function refreshDecisions() {
  try {
    const response = await fetch("/guard/decisions", { cache: "no-store" });
    if (response.ok) showDecisions((await response.json()).decisions);
  } catch {
    // The demo server stopped or restarts: keep the last rows and try again.
  }
  setTimeout(refreshDecisions, DECISIONS_REFRESH_MS);
}

refreshDecisions();
