// The supervisor's wallboard: a snapshot from /api/wallboard, read again (at most once a
// second) when the live event stream says something happened; state timers tick locally.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const $ = (id) => document.getElementById(id);
let board = null;
let pending = false;
// The server's clock may run ahead of this browser's (the demo moves its world to calling
// hours): times are measured against the server's "now", carried forward locally.
let skew = 0;

function clock(since) {
  if (!since) return "";
  const s = Math.max(0, Math.floor((Date.now() + skew - Date.parse(since)) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function percent(x) {
  return `${(100 * x).toFixed(2)}%`;
}

async function load() {
  pending = false;
  const chosen = $("campaign").value;
  const response = await fetch(`/api/wallboard${chosen ? `?campaign=${encodeURIComponent(chosen)}` : ""}`);
  const json = await response.json().catch(() => ({}));
  if (!response.ok) {
    $("error").textContent = json.error || `failed (${response.status})`;
    return;
  }
  $("error").textContent = "";
  board = json;
  skew = Date.parse(board.now) - Date.now();
  render();
}

function soon() {
  if (pending) return;
  pending = true;
  setTimeout(load, 1000);
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: JSON.stringify(body || {}),
  });
  const json = await response.json().catch(() => ({}));
  $("error").textContent = response.ok ? "" : json.error || `failed (${response.status})`;
  soon();
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function render() {
  if (!board) return;
  $("dials").textContent = board.last_hour.dials;
  $("answers").textContent = board.last_hour.person_answers;
  $("abandons").textContent = board.last_hour.abandons;
  $("abandon-rate").textContent = percent(board.window.rate);
  $("abandon-rate").className = board.window.rate > board.window.ceiling ? "figure bad" : "figure";
  $("ceiling").textContent = percent(board.window.ceiling);
  $("calls").textContent = board.calls.length;
  $("callbacks").textContent = board.callbacks_due;
  $("completes").textContent = board.completes_today;
  const picker = $("campaign");
  if (picker.options.length !== board.live_campaigns.length) {
    picker.replaceChildren(...board.live_campaigns.map((name) => new Option(name, name)));
  }
  picker.value = board.campaign;
  $("campaign-status").textContent = board.status;
  $("pause").disabled = board.status !== "running";
  const d = board.decision;
  $("level").textContent = d ? d.level.toFixed(2) : "–";
  $("strategy").textContent = d ? d.strategy : "";
  $("why").textContent = d ? `${d.dial} dial(s)${d.note ? `: ${d.note}` : ""}` : "no decision yet";
  $("figures").textContent = d ? d.figures.map(([k, v]) => `${k} ${Number(v).toFixed(2)}`).join(" · ") : "";

  const agents = $("agents").querySelector("tbody");
  agents.replaceChildren();
  for (const a of board.agents) {
    const tr = document.createElement("tr");
    tr.dataset.agent = a.login;
    tr.append(cell(a.display_name), cell(a.state.replace("_", " ") + (a.reason ? ` (${a.reason})` : "")));
    const since = cell(clock(a.since));
    since.dataset.since = a.since || "";
    tr.append(since);
    const completes = cell(a.completes_today);
    completes.className = "completes";
    tr.append(completes);
    const actions = document.createElement("td");
    if (a.state !== "logged_out") {
      const notReady = document.createElement("button");
      notReady.textContent = "Not ready";
      notReady.onclick = () => post(`/api/wallboard/agents/${a.id}/not-ready`, { reason: "supervisor" });
      const out = document.createElement("button");
      out.textContent = "Sign out";
      out.onclick = () => post(`/api/wallboard/agents/${a.id}/sign-out`);
      actions.append(notReady, " ", out);
    }
    tr.append(actions);
    agents.append(tr);
  }
  const calls = $("call-list").querySelector("tbody");
  calls.replaceChildren();
  for (const c of board.calls) {
    const tr = document.createElement("tr");
    tr.dataset.record = c.record;
    const since = cell(clock(c.bridged_at || c.dialed_at));
    since.dataset.since = c.bridged_at || c.dialed_at;
    tr.append(cell(c.phase.replace("_", " ")), cell(c.number), cell(c.record), cell(c.agent_name || ""), cell(c.mode), since);
    calls.append(tr);
  }
  const quotas = $("quotas").querySelector("tbody");
  quotas.replaceChildren();
  for (const q of board.quotas) {
    const tr = document.createElement("tr");
    tr.dataset.cell = `${q.quota} ${q.cell}`;
    tr.append(cell(`${q.quota} ${q.cell}`), cell(q.completes), cell(q.in_progress), cell(q.target), cell(q.full ? "full" : ""));
    quotas.append(tr);
  }
}

setInterval(() => {
  for (const td of document.querySelectorAll("td[data-since]")) td.textContent = clock(td.dataset.since);
}, 1000);
$("pause").onclick = () => post(`/api/wallboard/pause?campaign=${encodeURIComponent(board.campaign)}`);
$("campaign").onchange = load;
const events = new EventSource("/api/events");
for (const kind of ["agent", "call", "decision", "lagged"]) events.addEventListener(kind, soon);
load();
