// The demo page: one echo socket, many sockets to see the spread, the strict rules, plain pages.
// Plain browser JavaScript, no build step. Every failure that is not expected goes to #error.
/* global setTimeout, clearTimeout, URL */
"use strict";

const PROTOCOL = "echo-protocol";
const $ = (id) => document.getElementById(id);

// ---- errors -----------------------------------------------------------------------------------

const errors = [];
function showError(text) {
  errors.push(text);
  while (errors.length > 3) errors.shift();
  $("error").textContent = errors.join("\n");
}
function clearErrors() {
  errors.length = 0;
  $("error").textContent = "";
}

// ---- servers get a colour each, in the order they are met ------------------------------------

const known = ["websrv1", "websrv2"];
function paint(el, server) {
  let i = known.indexOf(server);
  if (i < 0) i = known.push(server) - 1;
  el.classList.remove("s0", "s1", "s2", "s3");
  el.classList.add("srv", `s${i % 4}`);
  el.textContent = server;
  return el;
}
function badge(server) {
  return paint(document.createElement("span"), server);
}

// ---- where to connect -------------------------------------------------------------------------

function wsHostName() {
  // Browsers resolve *.localhost to the loopback address, so ws.localhost reaches a local Sluice.
  const h = location.hostname;
  const local = h === "localhost" || /^[\d.]+$/.test(h) || h.includes(":");
  return `ws.${local ? "localhost" : h}${location.port ? `:${location.port}` : ""}`;
}
function wsUrl(route) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${route === "host" ? wsHostName() : location.host}/`;
}
function route() {
  return document.querySelector('input[name="route"]:checked').value;
}

// ---- the echo socket --------------------------------------------------------------------------

let socket = null;

function setState(text, kind) {
  $("state").textContent = text;
  $("state").className = `pill ${kind ?? ""}`;
}

function log(kind, server, text) {
  const li = document.createElement("li");
  li.className = kind;
  const time = document.createElement("time");
  time.textContent = new Date().toLocaleTimeString();
  const who = kind === "sent" ? document.createElement("span") : badge(server);
  if (kind === "sent") {
    who.className = "you";
    who.textContent = "you";
  }
  const what = document.createElement("span");
  what.className = "text";
  what.textContent = text;
  li.append(time, who, what);
  $("log").prepend(li);
  while ($("log").children.length > 100) $("log").lastChild.remove();
}

function connect() {
  if (socket) {
    const old = socket;
    socket = null;
    old.close(1000, "reconnecting");
  }
  clearErrors();
  const url = wsUrl(route());
  setState("connecting…", "wait");
  let ws;
  try {
    ws = new WebSocket(url, PROTOCOL);
  } catch (e) {
    setState("failed", "bad");
    return showError(`Cannot open ${url}: ${e.message}`);
  }
  socket = ws;
  let opened = false;
  ws.onopen = () => {
    opened = true;
    if (socket === ws) setState("open", "ok");
  };
  ws.onmessage = (ev) => {
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return showError(`Unexpected message from the server: ${String(ev.data).slice(0, 80)}`);
    }
    if (msg.type === "hello") {
      paint($("server"), msg.server);
      $("seen-host").textContent = msg.host;
      $("protocol").textContent = msg.protocol;
      log("hello", msg.server, `connected to ${msg.server} via ${url} (${msg.open} open on it)`);
    } else if (msg.type === "echo") {
      log("echo", msg.server, msg.text);
    }
  };
  ws.onclose = (ev) => {
    if (socket !== ws) return;
    socket = null;
    setState(`closed${ev.code ? ` (${ev.code})` : ""}`, "bad");
    if (!opened)
      showError(`The WebSocket to ${url} (subprotocol ${PROTOCOL}) did not open: is Sluice running?`);
    else if (ev.code !== 1000) {
      showError(`The WebSocket closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ""}). Press Reconnect.`);
    }
  };
}

$("send-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = $("message").value;
  if (!socket || socket.readyState !== WebSocket.OPEN)
    return showError("The socket is not open: press Reconnect.");
  socket.send(text);
  log("sent", null, text);
});
$("reconnect").addEventListener("click", connect);
$("disconnect").addEventListener("click", () => {
  if (!socket) return;
  const ws = socket;
  socket = null;
  ws.close(1000, "bye");
  setState("closed by you", "");
});
for (const radio of document.querySelectorAll('input[name="route"]'))
  radio.addEventListener("change", connect);

// ---- many sockets -----------------------------------------------------------------------------

let many = [];

function drawSpread() {
  const counts = new Map(known.slice(0, 2).map((s) => [s, 0]));
  let open = 0;
  let failed = 0;
  for (const m of many) {
    if (m.server) {
      counts.set(m.server, (counts.get(m.server) ?? 0) + 1);
      open++;
    } else if (m.failed) failed++;
  }
  const waiting = many.length - open - failed;
  const parts = [`${open} / ${many.length} open`];
  if (waiting) parts.push(`${waiting} waiting`);
  if (failed) parts.push(`${failed} failed`);
  $("spread-total").textContent = many.length ? parts.join(", ") : "none open";
  $("spread-total").className = `pill ${failed ? "bad" : waiting ? "wait" : many.length ? "ok" : ""}`;
  const rows = [...counts].map(([server, n]) => {
    const row = document.createElement("div");
    row.className = "bar";
    row.dataset.server = server;
    const track = document.createElement("span");
    track.className = "track";
    const fill = badge(server);
    fill.classList.add("fill");
    fill.textContent = "";
    fill.style.width = `${open ? (100 * n) / open : 0}%`;
    track.append(fill);
    const num = document.createElement("span");
    num.className = "num";
    num.textContent = String(n);
    row.append(badge(server), track, num);
    return row;
  });
  $("bars").replaceChildren(...rows);
}

function closeMany() {
  for (const m of many) m.ws.close(1000, "done");
  many = [];
  drawSpread();
}

$("many-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  closeMany();
  clearErrors();
  const n = Math.max(1, Math.min(200, Math.floor(Number($("count").value)) || 1));
  $("count").value = String(n);
  const url = wsUrl(route());
  const batch = [];
  for (let i = 0; i < n; i++) {
    const m = { ws: new WebSocket(url, PROTOCOL), server: null, failed: false };
    m.ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (msg.type === "hello") {
        m.server = msg.server;
        drawSpread();
      }
    };
    m.ws.onclose = () => {
      if (!m.server && many === batch) {
        m.failed = true;
        drawSpread();
        if (batch.every((x) => x.server || x.failed)) {
          const lost = batch.filter((x) => x.failed).length;
          showError(`${lost} of ${n} sockets did not open.`);
        }
      }
    };
    batch.push(m);
  }
  many = batch;
  drawSpread();
});
$("close-many").addEventListener("click", closeMany);

// ---- strict rules: a subprotocol nobody serves ------------------------------------------------

$("try-chat").addEventListener("click", () => {
  const out = $("chat-result");
  out.className = "result";
  out.textContent = "trying…";
  const ws = new WebSocket(wsUrl("upgrade"), "chat");
  const timer = setTimeout(() => ws.close(), 8000);
  let opened = false;
  ws.onopen = () => {
    opened = true;
    out.className = "result bad";
    out.textContent = "It opened: nothing refused the subprotocol 'chat'.";
    ws.close();
  };
  ws.onclose = () => {
    clearTimeout(timer);
    if (opened) return;
    out.className = "result ok";
    out.textContent =
      "Refused, as it should be. Browsers do not tell why; Sluice's log says: 403 from bk_ws's " +
      "deny rule (advanced configuration) or 400 from the server (simple configuration).";
  };
});

// ---- plain pages ------------------------------------------------------------------------------

$("probe").addEventListener("click", async () => {
  const out = $("probe-result");
  out.replaceChildren();
  for (let i = 0; i < 6; i++) {
    try {
      const r = await fetch("/server.html", { cache: "no-store" });
      const who = r.headers.get("X-Served-By");
      out.append(
        r.ok && who ? badge(who) : Object.assign(document.createElement("span"), { textContent: r.status }),
      );
    } catch (e) {
      return showError(`GET /server.html failed: ${e.message}`);
    }
  }
});

function link(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener";
  a.textContent = text;
  return a;
}

// ---- start ------------------------------------------------------------------------------------

$("origin").textContent = location.host;
$("url-upgrade").textContent = wsUrl("upgrade");
$("url-host").textContent = wsUrl("host");
const wsPage = `${location.protocol}//${wsHostName()}/`;
$("ws-host-link").href = wsPage;
$("ws-host-link").textContent = wsPage;

// The page names its own server; /whoami, answered by whichever server's turn it is, gives the peers.
paint($("page-server"), $("page-server").textContent);
fetch("/whoami", { cache: "no-store" })
  .then((r) => {
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    return r.json();
  })
  .then((who) => {
    const peers = Object.entries(who.peers ?? {});
    if (!peers.length) return;
    const holder = $("direct-links");
    holder.append("Each server's own page, bypassing Sluice:");
    for (const [name, base] of peers)
      holder.append(link(new URL("/server.html", base).href, `${name} (${base})`));
  })
  .catch((e) => showError(`Sluice did not answer /whoami: ${e.message}`));

drawSpread();
connect();
