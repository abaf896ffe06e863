// The admin console's settings panel (CATI-07, DIAL-09): a form for a campaign's calling
// hours (days, ranges, other ranges by day, holidays), dial modes, abandon ceiling and its
// window, pacer, answering-machine detection, caller ID, attempts, retry rules and record
// fields, each saved whole through the API; a refusal marks the setting it names. The TOML
// box beside it saves the whole configuration.
"use strict";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const MODES = ["predictive", "progressive", "preview", "agentless"];
const OUTCOMES = ["busy", "no_answer", "machine", "failed", "invalid", "abandoned"];
const PACERS = ["predictive", "progressive", "fixed-ratio", "vicidial-adaptive"];
const FIELD_TYPES = ["text", "integer", "decimal", "date", "category", "phone", "time_zone"];
let current = null;

const settingsPath = () => `/api/campaigns/${encodeURIComponent($("settings-campaign").value)}`;

function checkbox(name, value, checked, label) {
  const l = document.createElement("label");
  l.className = "inline";
  const box = document.createElement("input");
  box.type = "checkbox";
  box.name = name;
  box.value = value;
  box.checked = checked;
  l.append(box, ` ${label}`);
  return l;
}

// Names are the form's own: a name shared with a top-level input would make `form.NAME` a list.
function input(name, value, type = "text") {
  const i = document.createElement("input");
  i.name = name;
  i.type = type;
  if (type === "checkbox") i.checked = Boolean(value);
  else i.value = value === null || value === undefined ? "" : value;
  return i;
}

function fieldRow(f) {
  const type = document.createElement("select");
  type.name = "type";
  for (const t of FIELD_TYPES) type.append(new Option(t, t));
  type.value = f.type || "text";
  const tr = row([input("name", f.name), type, input("required", f.required, "checkbox"), input("key", f.key, "checkbox"), input("values", (f.values || []).join(", "))]);
  tr.dataset.original = f.name || "";
  return tr;
}

function show(view) {
  current = view;
  const s = view.settings;
  const form = $("settings-form");
  $("settings-status").textContent = `${view.kind}, ${view.status}`;
  $("calling-days").replaceChildren(...DAYS.map((d) => checkbox("day", d, s.calling_hours.days.includes(d), d)));
  form.ranges.value = s.calling_hours.ranges.join(", ");
  const byDay = s.calling_hours.by_day || {};
  $("day-ranges").querySelector("tbody").replaceChildren(...DAYS.map((d) => {
    const tr = row([d, input("day_ranges", (byDay[d] || []).join(", "))]);
    tr.dataset.day = d;
    return tr;
  }));
  form.holidays.value = (s.calling_hours.holidays || []).join(", ");
  form.window_hours.value = s.abandon.window_hours;
  form.grace_s.value = s.abandon.grace_s;
  form.pacer.replaceChildren(...PACERS.map((p) => new Option(p, p)));
  form.pacer.value = s.pacer;
  form.amd_enabled.checked = s.amd.enabled;
  form.amd_false_positive.value = s.amd.false_positive;
  form.dial_mode.replaceChildren(...MODES.map((m) => new Option(m, m)));
  form.dial_mode.value = s.dial_mode;
  const allowed = $("allowed-modes");
  allowed.replaceChildren(allowed.firstElementChild, ...MODES.map((m) => checkbox("allowed", m, (s.allowed_dial_modes || []).includes(m), m)));
  form.ceiling.value = s.abandon.ceiling;
  form.caller_id.value = s.caller_id || "";
  form.max_attempts.value = s.max_attempts;
  $("retry-rules").querySelector("tbody").replaceChildren(...OUTCOMES.map((o) => {
    const rule = s.retry.find((r) => r.outcome === o) || {};
    const tr = row([o, input("rule_after", rule.after_minutes, "number"), input("rule_max", rule.max_attempts, "number"), input("rule_next", rule.next_number, "checkbox")]);
    tr.dataset.outcome = o;
    return tr;
  }));
  $("field-config").querySelector("tbody").replaceChildren(...s.fields.map(fieldRow));
  $("config-form").config.value = view.config;
  for (const bad of document.querySelectorAll("#settings-panel .bad")) bad.classList.remove("bad");
  $("settings-error").textContent = "";
}

async function loadSettings() {
  if (!$("settings-campaign").value) return;
  const { ok, json } = await api("GET", `${settingsPath()}/settings`);
  if (ok) show(json);
}

// Marks the part of the form a refusal names (`abandon.ceiling` marks the abandon setting).
function refused(json) {
  $("settings-error").textContent = `${json.error || "refused"}${json.field ? ` (${json.field})` : ""}`;
  if (!json.field) return;
  const top = json.field.split(/[.[ ]/)[0];
  const at = document.querySelector(`#settings-panel [data-setting="${top}"]`);
  if (at) {
    at.classList.add("bad");
    at.scrollIntoView({ block: "center" });
  }
}

function gathered() {
  const form = $("settings-form");
  const s = current.settings;
  const number = (i) => (i.value === "" ? null : Number(i.value));
  const retry = [];
  for (const tr of $("retry-rules").querySelectorAll("tbody tr")) {
    const max = number(tr.querySelector('[name="rule_max"]'));
    if (max === null) continue;
    const rule = { outcome: tr.dataset.outcome, max_attempts: max, next_number: tr.querySelector('[name="rule_next"]').checked };
    const after = number(tr.querySelector('[name="rule_after"]'));
    if (after !== null) rule.after_minutes = after;
    retry.push(rule);
  }
  const fields = [];
  for (const tr of $("field-config").querySelectorAll("tbody tr")) {
    const name = tr.querySelector('[name="name"]').value.trim();
    if (!name) continue;
    // What the form does not show (time zones, a date format, a label) is kept.
    const before = s.fields.find((f) => f.name === tr.dataset.original) || {};
    const f = { ...before, name, type: tr.querySelector('[name="type"]').value, required: tr.querySelector('[name="required"]').checked, key: tr.querySelector('[name="key"]').checked };
    const values = tr.querySelector('[name="values"]').value.split(",").map((v) => v.trim()).filter(Boolean);
    if (values.length) f.values = values;
    else delete f.values;
    fields.push(f);
  }
  const list = (text) => text.split(",").map((r) => r.trim()).filter(Boolean);
  const byDay = {};
  for (const tr of $("day-ranges").querySelectorAll("tbody tr")) {
    const ranges = list(tr.querySelector('[name="day_ranges"]').value);
    if (ranges.length) byDay[tr.dataset.day] = ranges;
  }
  return {
    calling_hours: {
      ...s.calling_hours,
      days: [...form.querySelectorAll('[name="day"]:checked')].map((b) => b.value),
      ranges: list(form.ranges.value),
      by_day: byDay,
      holidays: list(form.holidays.value),
    },
    pacer: form.pacer.value,
    amd: { ...s.amd, enabled: form.amd_enabled.checked, false_positive: number(form.amd_false_positive) },
    dial_mode: form.dial_mode.value,
    allowed_dial_modes: [...form.querySelectorAll('[name="allowed"]:checked')].map((b) => b.value),
    abandon: { ...s.abandon, ceiling: number(form.ceiling), window_hours: number(form.window_hours), grace_s: number(form.grace_s) },
    caller_id: form.caller_id.value.trim() || null,
    max_attempts: number(form.max_attempts),
    retry,
    fields,
  };
}

$("settings-campaign").addEventListener("change", loadSettings);
$("add-field").onclick = () => $("field-config").querySelector("tbody").append(fieldRow({ type: "text" }));

$("settings-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!current) return;
  for (const bad of document.querySelectorAll("#settings-panel .bad")) bad.classList.remove("bad");
  const { ok, json } = await api("POST", `${settingsPath()}/settings`, { settings: gathered() });
  if (!ok) return refused(json);
  show(json);
  $("notice").textContent = `${json.name}: settings saved`;
});

$("config-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const { ok, json } = await api("POST", `${settingsPath()}/config`, { config: e.target.config.value });
  if (!ok) return refused(json);
  show(json);
  $("notice").textContent = `${json.name}: configuration saved`;
});
