// The admin console's quotas panel: a campaign's quota cells with their progress (the
// targets come from the campaign's questionnaire; admin.js fills the campaign list).
"use strict";

async function loadQuotas() {
  const name = $("quotas-campaign").value;
  const body = $("quotas").querySelector("tbody");
  if (!name) {
    body.replaceChildren();
    return;
  }
  const { ok, json } = await api("GET", `/api/campaigns/${encodeURIComponent(name)}/quotas`);
  if (!ok) return;
  $("quotas-source").textContent = json.questionnaire
    ? `Read from ${json.questionnaire} ${json.version || "(not published)"}.`
    : "The campaign has no questionnaire.";
  body.replaceChildren(...json.cells.map((c) => {
    const tr = row([c.quota, c.cell, c.target, c.completes, c.in_progress, c.full ? "full" : ""]);
    tr.dataset.cell = `${c.quota} ${c.cell}`;
    return tr;
  }));
  if (json.cells.length === 0) body.append(row(["no quotas", "", "", "", "", ""]));
}

$("quotas-campaign").addEventListener("change", loadQuotas);
