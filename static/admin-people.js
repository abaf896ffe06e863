// The admin console's people panels: a user's roles, password and account changed; teams
// created and their members; the agents and teams a campaign is assigned.
"use strict";

const names = (text) => (text || "").split(",").map((s) => s.trim()).filter(Boolean);

async function teams() {
  const { ok, json } = await api("GET", "/api/teams");
  if (!ok) return;
  $("teams").querySelector("tbody").replaceChildren(...json.map((t) => {
    const tr = row([t.name, t.members.join(", ")]);
    tr.dataset.team = t.name;
    return tr;
  }));
  for (const select of document.querySelectorAll("select.team-select")) {
    const chosen = select.value;
    select.replaceChildren(...json.map((t) => new Option(t.name, t.name)));
    if (chosen) select.value = chosen;
  }
}

$("change-user").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const body = {};
  if (names(f.get("roles")).length) body.roles = names(f.get("roles"));
  if (f.get("password")) body.password = f.get("password");
  if (f.get("active")) body.active = f.get("active") === "true";
  const done = await api("POST", `/api/users/${encodeURIComponent(f.get("login").trim())}`, body);
  if (done.ok) {
    $("notice").textContent = `${done.json.login}: ${done.json.roles.join(", ")}${done.json.active ? "" : ", disabled"}`;
    e.target.password.value = "";
  }
  users();
});

$("new-team").addEventListener("submit", async (e) => {
  e.preventDefault();
  const done = await api("POST", "/api/teams", { name: e.target.name.value });
  if (done.ok) $("notice").textContent = `created team ${done.json.name}`;
  teams();
});

$("team-member").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const member = e.submitter ? e.submitter.value === "true" : true;
  const done = await api("POST", `/api/teams/${encodeURIComponent(f.get("team"))}/members`, { login: f.get("login").trim(), member });
  if (done.ok) $("notice").textContent = `${done.json.name}: ${done.json.members.join(", ") || "no members"}`;
  teams();
  users();
});

// The assignment form shows the campaign's agents and teams as they are.
$("assign-campaign").addEventListener("change", async () => {
  const name = $("assign-campaign").value;
  if (!name) return;
  const { ok, json } = await api("GET", "/api/campaigns");
  const c = ok && json.find((x) => x.name === name);
  if (!c) return;
  $("assignments").agents.value = c.agents.join(", ");
  $("assignments").teams.value = c.teams.join(", ");
});

$("assignments").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const done = await api("POST", `/api/campaigns/${encodeURIComponent(f.get("campaign"))}/assignments`,
    { agents: names(f.get("agents")), teams: names(f.get("teams")) });
  if (done.ok) $("notice").textContent = `${done.json.name}: agents ${done.json.agents.join(", ") || "none"}; teams ${done.json.teams.join(", ") || "none"}`;
  campaigns();
});

teams();
