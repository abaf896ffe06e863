// The admin console: campaigns and their lifecycle, questionnaire files (checked with every
// error's place, then published), users. Everything goes through the JSON API. The other
// panels' scripts (admin-*.js) use the helpers defined here.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const $ = (id) => document.getElementById(id);

async function api(method, path, body, raw) {
  const headers = { "x-csrf-token": csrf };
  if (!raw) headers["content-type"] = "application/json";
  const response = await fetch(path, { method, headers, body: raw ? body : body === undefined ? undefined : JSON.stringify(body) });
  const json = await response.json().catch(() => ({}));
  $("error").textContent = response.ok || json.errors ? "" : `${json.error || response.status}${json.field ? ` (${json.field})` : ""}`;
  return { ok: response.ok, json };
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const td = document.createElement("td");
    if (c instanceof Node) td.append(c);
    else td.textContent = c === null || c === undefined ? "" : String(c);
    tr.append(td);
  }
  return tr;
}

const NEXT = { draft: ["publish"], published: ["start", "close"], running: ["pause", "close"], paused: ["resume", "close"], closed: [] };

async function campaigns() {
  const { ok, json } = await api("GET", "/api/campaigns");
  if (!ok) return;
  $("campaigns").querySelector("tbody").replaceChildren(...json.map((c) => {
    const actions = document.createElement("span");
    for (const step of [...(NEXT[c.status] || []), "copy"]) {
      const b = document.createElement("button");
      b.textContent = step;
      b.onclick = async () => {
        const body = step === "copy" ? { new_name: prompt(`Name of the copy of ${c.name}`) || "" } : {};
        const done = await api("POST", `/api/campaigns/${encodeURIComponent(c.name)}/${step}`, body);
        if (done.ok) $("notice").textContent = `${done.json.name}: ${done.json.status}`;
        campaigns();
      };
      actions.append(b, " ");
    }
    const tr = row([c.name, c.kind, c.status, c.teams.join(", "), actions]);
    tr.dataset.campaign = c.name;
    return tr;
  }));
  // The other panels pick a campaign from the same list.
  for (const select of document.querySelectorAll("select.campaign-select")) {
    const chosen = select.value;
    const options = select.dataset.global ? [new Option(select.dataset.global, "")] : [];
    options.push(...json.map((c) => new Option(c.name, c.name)));
    select.replaceChildren(...options);
    if (chosen && json.some((c) => c.name === chosen)) select.value = chosen;
    select.dispatchEvent(new Event("change"));
  }
}

async function versions() {
  const { ok, json } = await api("GET", "/api/questionnaires");
  if (!ok) return;
  $("versions").querySelector("tbody").replaceChildren(...json.map((v) =>
    row([v.key, v.version, v.file_name, new Date(v.published_at).toLocaleString()])));
  for (const select of document.querySelectorAll("select.version-select")) {
    select.replaceChildren(...json.map((v) => new Option(`${v.key} ${v.version}`, v.id)));
  }
}

async function users() {
  const { ok, json } = await api("GET", "/api/users");
  if (!ok) return;
  $("users").querySelector("tbody").replaceChildren(...json.map((u) =>
    row([u.login, u.display_name, u.roles.join(", "), u.teams.join(", "), u.active ? "yes" : "disabled"])));
}

$("new-campaign").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const done = await api("POST", "/api/campaigns", { name: form.get("name"), config: form.get("config") });
  if (done.ok) $("notice").textContent = `created ${done.json.name}`;
  campaigns();
});

$("questionnaire").addEventListener("submit", async (e) => {
  e.preventDefault();
  const file = e.target.file.files[0];
  if (!file) return;
  const action = e.submitter ? e.submitter.value : "check";
  const path = action === "publish" ? "/api/questionnaires" : "/api/questionnaires/check";
  const { json } = await api("POST", `${path}?file=${encodeURIComponent(file.name)}`, await file.arrayBuffer(), true);
  const out = $("check-result");
  out.replaceChildren();
  if (json.errors && json.errors.length) {
    const list = document.createElement("ul");
    list.className = "error";
    for (const err of json.errors) {
      const at = err.at;
      const where = [at.file, at.sheet && `sheet ${at.sheet}`, at.row && `row ${at.row}`, at.item, at.column && `${at.sheet ? "column" : "key"} ${at.column}`].filter(Boolean).join(", ");
      const li = document.createElement("li");
      li.textContent = `${where}: ${err.message}`;
      list.append(li);
    }
    out.append(list);
  } else if (json.summary) {
    const s = json.summary;
    out.textContent = `${s.id} version ${s.version}: ${s.questions} questions, ${s.groups} groups, languages ${s.languages.join(", ")}; it loads.`;
  } else if (json.key) {
    out.textContent = `published ${json.key} version ${json.version}${json.new ? "" : " (already published)"}`;
    versions();
  }
});

$("new-user").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const done = await api("POST", "/api/users", {
    login: f.get("login"),
    display_name: f.get("display_name") || null,
    password: f.get("password"),
    roles: [f.get("role")],
    teams: f.get("team") ? [f.get("team")] : [],
  });
  if (done.ok) $("notice").textContent = `added ${done.json.login}`;
  users();
});

campaigns();
versions();
users();
