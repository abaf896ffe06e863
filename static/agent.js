// The agent desktop: reads /api/agent when the server says something changed (server-sent
// events, no polling) and after each action; keyboard first: digits pick options, Enter
// moves on, Esc goes back, F2 ready, F3 not ready, F4 dial and F6 skip the record shown in
// preview, F7 edit the record, F9 hang up, F10 disposition.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const $ = (id) => document.getElementById(id);
let view = null;
let picked = new Set();
let ticking = null;

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) {
    $("error").textContent = json.error || `failed (${response.status})`;
    return null;
  }
  $("error").textContent = "";
  return json;
}

async function act(action, body) {
  const next = await call("POST", `/api/agent/${action}`, body || {});
  if (next) render(next);
  if (next && action === "finish") today();
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const text of cells) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    tr.append(td);
  }
  return tr;
}

// Today's counts, the leaderboard and the agent's calls.
async function today() {
  const board = await call("GET", "/api/leaderboard?period=today");
  const calls = await call("GET", "/api/agent/calls");
  if (!board || !calls) return;
  const me = board.find((t) => view && t.interviewer === view.agent);
  $("my-calls").textContent = me ? me.calls : 0;
  $("my-completes").textContent = me ? me.completes : 0;
  $("my-rate").textContent = me && me.completes_per_hour !== null ? me.completes_per_hour.toFixed(1) : "–";
  const body = $("leaderboard").querySelector("tbody");
  body.replaceChildren(...board.map((t, i) =>
    row([i + 1, t.login, t.completes, t.calls, t.completes_per_hour === null ? "–" : t.completes_per_hour.toFixed(1)])));
  const mine = $("calls").querySelector("tbody");
  mine.replaceChildren(...calls.map((c) => {
    const tr = row([new Date(c.queued_at).toLocaleTimeString(), c.record, c.e164, c.outcome, c.disposition]);
    const td = document.createElement("td");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Answers";
    button.dataset.record = c.record;
    button.onclick = () => showAnswers(c.record);
    td.append(button);
    tr.append(td);
    return tr;
  }));
}

// A record's interviews with their answers (CATI-04), question by question.
async function showAnswers(record) {
  const interviews = await call("GET", `/api/records/${record}/answers`);
  if (!interviews) return;
  $("answers-record").textContent = record;
  const list = $("answers-list");
  list.replaceChildren();
  if (interviews.length === 0) list.textContent = "No interview yet.";
  for (const i of interviews) {
    const h = document.createElement("h3");
    h.textContent = `${i.questionnaire} ${i.version}: ${i.state.replace("_", " ")}, started ${new Date(i.started_at).toLocaleString()}`;
    const dl = document.createElement("dl");
    dl.className = "answers";
    for (const [question, value] of Object.entries(i.answers)) {
      const dt = document.createElement("dt");
      dt.textContent = question;
      const dd = document.createElement("dd");
      dd.textContent = Array.isArray(value) ? value.join(", ") : value === null ? "" : String(value);
      dl.append(dt, dd);
    }
    list.append(h, dl);
  }
  $("answers").hidden = false;
  $("answers-close").focus();
}
$("answers-close").onclick = () => { $("answers").hidden = true; };

async function refresh() {
  const next = await call("GET", "/api/agent");
  if (next) render(next);
}

// The server's clock may run ahead of this browser's (the demo moves its world to calling
// hours): times are measured against the server's "now", carried forward locally.
let skew = 0;
let callbackFor = null;

function clock(since) {
  if (!since) return "0:00";
  const s = Math.max(0, Math.floor((Date.now() + skew - Date.parse(since)) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

// A time as a datetime-local input shows it (this browser's zone), to the minute.
function localInput(ms) {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function tick() {
  if (!view) return;
  $("state-timer").textContent = clock(view.since);
  if (view.call) $("call-timer").textContent = clock(view.call.since);
}

function fields(list, values) {
  list.replaceChildren();
  for (const [name, value] of Object.entries(values || {})) {
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = value === null ? "" : String(value);
    list.append(dt, dd);
  }
}

function render(next) {
  const before = view && view.interview && view.interview.question && view.interview.question.name;
  view = next;
  skew = Date.parse(view.now) - Date.now();
  if (view.call && view.call.record !== callbackFor) {
    // A new call: the callback time starts an hour ahead on the server's clock.
    callbackFor = view.call.record;
    $("callback-at").value = localInput(Date.parse(view.now) + 3600 * 1000);
  }
  $("state").textContent = view.state.replace("_", " ");
  $("state").dataset.state = view.state;
  $("reason").textContent = view.reason ? `(${view.reason})` : "";
  const loggedIn = view.state !== "logged_out";
  $("phone-in").hidden = loggedIn;
  $("phone-out").hidden = !loggedIn;
  const free = view.state === "not_ready" || (view.state === "wrap_up" && !view.needs_disposition);
  $("ready").disabled = !free;
  $("not-ready").disabled = !loggedIn || view.state === "not_ready";

  const modes = $("mode");
  if (modes.options.length !== view.modes.length) {
    modes.replaceChildren(...view.modes.map((m) => new Option(m, m)));
  }
  modes.value = view.mode || "";
  modes.disabled = !loggedIn || view.modes.length < 2;

  // The campaigns the agent may take calls from, each a checkbox: switching between calls.
  const picks = $("campaign-picks");
  picks.hidden = !loggedIn || view.campaigns.length < 2;
  const shown = [...picks.querySelectorAll("input")].map((i) => i.value).join(" ");
  if (shown !== view.campaigns.map((c) => c.name).join(" ")) {
    picks.querySelectorAll("label").forEach((l) => l.remove());
    for (const c of view.campaigns) {
      const label = document.createElement("label");
      label.className = "inline";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = c.name;
      box.dataset.campaign = c.name;
      box.onchange = () => act("campaigns", {
        campaigns: [...picks.querySelectorAll("input:checked")].map((i) => i.value),
      });
      label.append(box, ` ${c.name}`);
      picks.append(label);
    }
  }
  for (const c of view.campaigns) {
    const box = picks.querySelector(`input[data-campaign="${CSS.escape(c.name)}"]`);
    if (box) box.checked = c.chosen;
  }

  $("preview").hidden = !view.preview;
  if (view.preview) {
    $("preview-record").textContent = view.preview.record;
    fields($("preview-fields"), view.preview.fields);
    const numbers = $("preview-number");
    numbers.replaceChildren(...view.preview.numbers.map(([position, e164]) => new Option(e164, position)));
    const current = view.preview.numbers.find(([, e164]) => e164 === view.preview.number);
    if (current) numbers.value = current[0];
  }

  $("call").hidden = !view.call;
  if (view.call) {
    $("call-ended").hidden = !view.call.ended;
    $("hang-up").disabled = view.state !== "on_call";
    fields($("record"), view.call.fields);
  } else {
    closeRecord();
  }

  const interview = view.interview;
  $("interview").hidden = !interview;
  if (interview) {
    const languages = $("language");
    if (languages.options.length !== interview.languages.length) {
      languages.replaceChildren(...interview.languages.map((l) => new Option(l, l)));
    }
    languages.value = interview.language;
    const asking = interview.state.state === "asking" && interview.question;
    $("question").hidden = !asking;
    $("ended").hidden = asking;
    if (!asking) $("ended-how").textContent = interview.state.state.replace("_", " ");
    if (asking) showQuestion(interview.question, interview.question.name !== before);
  }
  $("wrap").hidden = !view.needs_disposition;
  if (!$("wrap").hidden && (!interview || interview.state.state !== "asking")) $("finish").focus();
  tick();
}

function showQuestion(q, fresh) {
  $("progress").value = q.progress;
  $("question-text").textContent = q.text;
  $("question-text").dataset.name = q.name;
  $("question-hint").textContent = q.hint || "";
  const list = $("options");
  list.replaceChildren();
  const choice = q.kind === "single_choice" || q.kind === "multiple_choice";
  if (fresh) {
    picked = new Set(Array.isArray(q.answer) ? q.answer : q.answer != null && choice ? [q.answer] : []);
  }
  q.options.forEach(([name, text], i) => {
    const item = document.createElement("li");
    item.dataset.option = name;
    item.textContent = `${i + 1}. ${text}`;
    item.className = picked.has(name) ? "picked" : "";
    item.onclick = () => pick(i);
    list.append(item);
  });
  const input = $("answer");
  input.hidden = choice || q.kind === "note";
  input.type = { integer: "number", decimal: "number", rating: "number", date: "date", time: "time" }[q.kind] || "text";
  input.step = q.kind === "decimal" ? "any" : "1";
  if (fresh) input.value = q.answer != null && !choice ? String(q.answer) : "";
  $("other").hidden = !picked.has("other");
  if (fresh) (input.hidden ? $("question").querySelector("button[type=submit]") : input).focus();
}

function pick(i) {
  const q = view.interview.question;
  if (i >= q.options.length) return;
  const name = q.options[i][0];
  if (q.kind === "multiple_choice") {
    if (picked.has(name)) picked.delete(name);
    else picked.add(name);
  } else {
    picked = new Set([name]);
  }
  showQuestion(q, false);
  if (picked.has("other")) $("other").focus();
}

function answerValue(q) {
  if (q.kind === "note") return null;
  if (q.kind === "single_choice") return picked.size ? [...picked][0] : null;
  if (q.kind === "multiple_choice") return [...picked];
  const raw = $("answer").value.trim();
  if (raw === "") return null;
  if (["integer", "decimal", "rating"].includes(q.kind)) return Number(raw);
  return raw;
}

$("question").addEventListener("submit", (e) => {
  e.preventDefault();
  const q = view.interview.question;
  const other = picked.has("other") ? $("other").value : undefined;
  act("answer", { value: answerValue(q), other });
});
$("back").onclick = () => act("back");
$("mode").onchange = () => act("mode", { mode: $("mode").value });
$("language").onchange = () => act("language", { language: $("language").value });
$("preview-dial").onclick = () => act("preview-dial", { position: Number($("preview-number").value) });
$("preview-skip").onclick = () => act("preview-skip");
$("phone-in").onclick = () => act("login");
$("phone-out").onclick = () => act("logout");
$("ready").onclick = () => act("ready");
$("not-ready").onclick = () => act("not-ready", { reason: $("reason-pick").value });
$("hang-up").onclick = () => act("hang-up");
$("finish").onclick = () => act("finish", { ending: "as_it_ended" });
$("break-off").onclick = () => act("finish", { ending: "break_off" });
$("callback").onclick = () => {
  const local = $("callback-at").value;
  if (!local) {
    $("error").textContent = "say when to call back";
    return;
  }
  act("finish", { ending: "callback", at: new Date(local).toISOString(), personal: $("callback-personal").checked });
};

// The record on the call, edited in place: one input per field of the campaign's field
// configuration; the server checks each value by its type and keeps an audit row per change.
async function openRecord() {
  if (!view || !view.call) return;
  const page = await call("GET", `/api/records/${view.call.record}`);
  if (!page) return;
  const inputs = $("record-inputs");
  inputs.replaceChildren();
  for (const spec of page.fields) {
    const label = document.createElement("label");
    label.className = "inline";
    label.textContent = spec.label || spec.name;
    const input = document.createElement("input");
    input.name = spec.name;
    input.dataset.field = spec.name;
    const value = page.record.fields[spec.name];
    input.value = value === null || value === undefined ? "" : String(value);
    input.dataset.was = input.value;
    label.append(input);
    inputs.append(label);
  }
  $("record-edit").dataset.record = page.record.id;
  $("record-edit").hidden = false;
  $("record").hidden = true;
  const first = inputs.querySelector("input");
  if (first) first.focus();
}

function closeRecord() {
  if ($("record-edit").hidden) return;
  $("record-edit").hidden = true;
  $("record").hidden = false;
  // Back to the interview, where the keyboard was.
  if (!$("question").hidden) {
    ($("answer").hidden ? $("question").querySelector("button[type=submit]") : $("answer")).focus();
  }
}

$("record-open").onclick = openRecord;
$("record-cancel").onclick = closeRecord;
$("record-edit").addEventListener("submit", async (e) => {
  e.preventDefault();
  const changed = {};
  for (const input of $("record-inputs").querySelectorAll("input")) {
    if (input.value !== input.dataset.was) changed[input.name] = input.value;
  }
  const saved = await call("POST", `/api/records/${$("record-edit").dataset.record}`, { fields: changed });
  if (!saved) return;
  closeRecord();
  refresh();
});

document.addEventListener("keydown", (e) => {
  if (!$("record-edit").hidden) {
    // The record form has the keyboard: Enter saves (the form's submit), Esc cancels.
    if (e.key === "Escape") { e.preventDefault(); closeRecord(); }
    return;
  }
  if (e.key === "F7" && view && view.call) { e.preventDefault(); openRecord(); return; }
  const typing = e.target.tagName === "INPUT" && e.target.type !== "checkbox";
  if (e.key === "F2") { e.preventDefault(); act("ready"); return; }
  if (e.key === "F3") { e.preventDefault(); $("not-ready").click(); return; }
  if (e.key === "F9") { e.preventDefault(); act("hang-up"); return; }
  if (e.key === "F10") { e.preventDefault(); $("finish").click(); return; }
  if (e.key === "F4" && view && view.preview) { e.preventDefault(); $("preview-dial").click(); return; }
  if (e.key === "F6" && view && view.preview) { e.preventDefault(); act("preview-skip"); return; }
  const q = view && view.interview && view.interview.state.state === "asking" && view.interview.question;
  if (!q) return;
  if (e.key === "Escape") { e.preventDefault(); act("back"); return; }
  if (!typing && /^[1-9]$/.test(e.key)) { e.preventDefault(); pick(Number(e.key) - 1); return; }
  if (!typing && e.key === "Enter") { e.preventDefault(); $("question").requestSubmit(); }
});

const events = new EventSource("/api/agent/events");
events.addEventListener("changed", refresh);
events.onopen = refresh;
ticking = setInterval(tick, 1000);
refresh().then(today);
