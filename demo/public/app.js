// The demo page: one echo socket, many sockets to see the spread, and plain pages.
"use strict";

const $ = (id) => document.getElementById(id);
const PROTOCOL = "echo-protocol";
let socket = null;
let many = [];

function showError(text) {
  $("error").textContent = text;
}

function wsUrl() {
  const host = $("via-host").checked ? `ws.localhost:${location.port}` : location.host;
  return `ws://${host}/`;
}

function log(kind, text, server) {
  const li = document.createElement("li");
  li.className = kind;
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = server ?? "";
  const what = document.createElement("span");
  what.textContent = text;
  li.append(who, what);
  $("log").prepend(li);
  while ($("log").children.length > 50) $("log").lastChild.remove();
}

function connect() {
  if (socket) socket.close();
  showError("");
  $("state").textContent = "connecting";
  $("state").className = "state";
  const ws = new WebSocket(wsUrl(), PROTOCOL);
  socket = ws;
  ws.onopen = () => {
    $("state").textContent = "open";
    $("state").className = "state open";
  };
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === "hello") {
      $("server").textContent = msg.server;
      log("hello", `connected, subprotocol ${msg.protocol}`, msg.server);
    } else log("echo", msg.text, msg.server);
  };
  ws.onclose = (ev) => {
    if (socket !== ws) return;
    $("state").textContent = `closed (${ev.code})`;
    $("state").className = "state closed";
  };
  ws.onerror = () => {
    if (socket === ws) showError(`Could not open ${wsUrl()} with subprotocol ${PROTOCOL}.`);
  };
}

$("send-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  if (!socket || socket.readyState !== WebSocket.OPEN)
    return showError("The socket is not open: reconnect first.");
  socket.send($("message").value);
  log("sent", $("message").value, "you");
});
$("reconnect").addEventListener("click", connect);
$("via-host").addEventListener("change", connect);

function drawBars() {
  const counts = {};
  for (const m of many) if (m.server) counts[m.server] = (counts[m.server] ?? 0) + 1;
  const open = many.filter((m) => m.server).length;
  const total = open || 1;
  $("spread-total").textContent = many.length ? `${open} / ${many.length} open` : "";
  $("bars").replaceChildren(
    ...Object.keys(counts)
      .sort()
      .map((name) => {
        const row = document.createElement("div");
        row.className = "bar";
        const label = document.createElement("span");
        label.textContent = `${name}: ${counts[name]}`;
        const fill = document.createElement("span");
        fill.className = "fill";
        fill.style.width = `${(100 * counts[name]) / total}%`;
        row.append(label, fill);
        return row;
      }),
  );
}

function closeMany() {
  for (const m of many) m.ws.close();
  many = [];
  drawBars();
}

$("many-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  closeMany();
  const n = Math.max(1, Math.min(200, Number($("count").value) || 1));
  for (let i = 0; i < n; i++) {
    const entry = { ws: new WebSocket(wsUrl(), PROTOCOL), server: null };
    entry.ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (msg.type === "hello") {
        entry.server = msg.server;
        drawBars();
      }
    };
    many.push(entry);
  }
});
$("close-many").addEventListener("click", closeMany);

$("probe").addEventListener("click", async () => {
  const names = [];
  for (let i = 0; i < 4; i++) {
    const r = await fetch("/server.html", { cache: "no-store" });
    names.push(r.headers.get("X-Served-By") ?? "?");
  }
  $("probe-result").textContent = names.join(" → ");
});

$("ws-host").textContent = `ws.localhost:${location.port}`;
fetch("/whoami", { cache: "no-store" })
  .then((r) => r.json())
  .then((j) => ($("page-server").textContent = j.server))
  .catch(() => showError("The balancer did not answer /whoami."));
connect();
