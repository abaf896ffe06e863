// The admin console's quotas panel: a campaign's quota cells with their progress, and each
// cell's target changed for the campaign (admin.js fills the campaign list).
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
    const target = document.createElement("input");
    target.type = "number";
    target.min = "0";
    target.value = c.target;
    target.setAttribute("aria-label", `target of ${c.quota} ${c.cell}`);
    const save = document.createElement("button");
    save.textContent = "Set";
    save.onclick = () => setTarget(name, c, target);
    target.addEventListener("keydown", (e) => { if (e.key === "Enter") setTarget(name, c, target); });
    const cell = document.createElement("span");
    cell.append(target, " ", save);
    const tr = row([c.quota, c.cell, cell, c.completes, c.in_progress, c.full ? "full" : ""]);
    tr.dataset.cell = `${c.quota} ${c.cell}`;
    return tr;
  }));
  if (json.cells.length === 0) body.append(row(["no quotas", "", "", "", "", ""]));
}

async function setTarget(name, c, input) {
  const { ok, json } = await api("POST", `/api/campaigns/${encodeURIComponent(name)}/quotas`, {
    quota: c.quota, cell: c.cell, target: Number(input.value),
  });
  $("quotas-error").textContent = ok ? "" : json.error || "not saved";
  if (ok) await loadQuotas();
}

$("quotas-campaign").addEventListener("change", loadQuotas);
