// The admin console's sample panel (CATI-08): upload a file, map its columns to the
// campaign's fields, import it and read the per-row report; status counts; the record list
// with its filters, priorities and allocation to agents and teams.
"use strict";

const sample = { file: null, offset: 0, limit: 25 };
const sampleCampaign = () => $("sample-campaign").value;
const campaignPath = () => `/api/campaigns/${encodeURIComponent(sampleCampaign())}`;

async function sampleCounts() {
  if (!sampleCampaign()) return;
  const { ok, json } = await api("GET", `${campaignPath()}/sample`);
  if (!ok) return;
  const tile = (label, figure) => {
    const div = document.createElement("div");
    div.className = "tile";
    const l = document.createElement("span");
    l.className = "label";
    l.textContent = label;
    const f = document.createElement("span");
    f.className = "figure";
    f.textContent = figure;
    div.append(l, f);
    return div;
  };
  $("sample-counts").replaceChildren(tile("records", json.total),
    ...Object.entries(json.counts).filter(([, n]) => n > 0).map(([s, n]) => tile(s, n)));
  $("sample-counts").dataset.total = json.total;
}

async function records() {
  if (!sampleCampaign()) return;
  const f = new FormData($("record-filter"));
  const query = new URLSearchParams({ limit: sample.limit, offset: sample.offset });
  for (const key of ["status", "agent", "team"]) if (f.get(key)) query.set(key, f.get(key));
  const { ok, json } = await api("GET", `${campaignPath()}/records?${query}`);
  if (!ok) return;
  $("records-prev").disabled = sample.offset === 0;
  $("records-next").disabled = !json.more;
  $("records").querySelector("tbody").replaceChildren(...json.records.map((r) => {
    const tick = document.createElement("input");
    tick.type = "checkbox";
    tick.value = r.id;
    tick.setAttribute("aria-label", `record ${r.id}`);
    const priority = document.createElement("span");
    const input = document.createElement("input");
    input.type = "number";
    input.value = r.priority;
    input.className = "priority";
    input.setAttribute("aria-label", `priority of record ${r.id}`);
    const save = document.createElement("button");
    save.type = "button";
    save.textContent = "set";
    // A record's priority is changed through the record's own endpoint (audited there).
    save.onclick = async () => {
      const done = await api("POST", `/api/records/${r.id}`, { priority: Number(input.value) });
      if (done.ok) $("notice").textContent = `record ${r.id}: priority ${done.json.record.priority}`;
      records();
    };
    priority.append(input, " ", save);
    // Statuses a person may set; the others are the dialer's to set.
    const status = document.createElement("select");
    status.setAttribute("aria-label", `status of record ${r.id}`);
    const settable = ["new", "ready", "completed", "final", "do_not_call", "invalid"];
    for (const s of settable.includes(r.status) ? settable : [r.status, ...settable]) status.append(new Option(s, s));
    status.value = r.status;
    status.onchange = async () => {
      const done = await api("POST", `/api/records/${r.id}`, { status: status.value });
      if (done.ok) $("notice").textContent = `record ${r.id}: ${done.json.record.status}`;
      records();
      sampleCounts();
    };
    const fields = Object.entries(r.fields).map(([k, v]) => `${k}=${v}`).join(" ");
    const tr = row([tick, r.id, status, priority, r.assigned_agent || r.assigned_team || "", r.phones.map((p) => p.e164).join(" "), fields]);
    tr.dataset.record = r.id;
    return tr;
  }));
}

function refreshSample() {
  sample.offset = 0;
  sampleCounts();
  records();
}

$("sample-campaign").addEventListener("change", refreshSample);

$("record-filter").addEventListener("submit", (e) => {
  e.preventDefault();
  sample.offset = 0;
  records();
});
$("records-prev").onclick = () => { sample.offset = Math.max(0, sample.offset - sample.limit); records(); };
$("records-next").onclick = () => { sample.offset += sample.limit; records(); };

(function statuses() {
  const select = $("record-filter").status;
  for (const s of ["new", "ready", "in_progress", "callback", "completed", "final", "do_not_call", "quota_closed", "invalid"]) {
    select.append(new Option(s, s));
  }
})();

$("sample-upload").addEventListener("submit", async (e) => {
  e.preventDefault();
  const file = e.target.file.files[0];
  if (!file || !sampleCampaign()) return;
  sample.file = { name: file.name, bytes: await file.arrayBuffer() };
  $("import-report").replaceChildren();
  const { ok, json } = await api("POST", `${campaignPath()}/sample/columns?file=${encodeURIComponent(file.name)}`, sample.file.bytes, true);
  if (!ok) return;
  const tbody = $("mapping").querySelector("tbody");
  tbody.replaceChildren(...json.columns.map((column, i) => {
    const select = document.createElement("select");
    select.name = column;
    select.setAttribute("aria-label", `field for column ${column}`);
    select.append(new Option("(leave out)", ""));
    for (const f of json.fields) select.append(new Option(`${f.name} (${f.type}${f.required ? ", required" : ""})`, f.name));
    select.value = json.mapping[column] || "";
    const values = json.rows.map((r) => r[i]).filter((v) => v !== undefined && v !== "").slice(0, 3).join(" · ");
    const tr = row([column, values, select]);
    tr.dataset.column = column;
    return tr;
  }));
  $("sample-mapping").hidden = false;
});

$("sample-mapping").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!sample.file) return;
  const mapping = {};
  for (const select of e.target.querySelectorAll("select")) mapping[select.name] = select.value || null;
  const query = new URLSearchParams({ file: sample.file.name, mapping: JSON.stringify(mapping) });
  const { ok, json } = await api("POST", `${campaignPath()}/sample?${query}`, sample.file.bytes, true);
  const out = $("import-report");
  out.replaceChildren();
  if (!ok) {
    if (json.problems) {
      const list = document.createElement("ul");
      list.className = "error";
      for (const p of json.problems) {
        const li = document.createElement("li");
        li.textContent = p;
        list.append(li);
      }
      out.append(list);
    }
    return;
  }
  const summary = document.createElement("p");
  summary.id = "import-summary";
  summary.className = "ok";
  summary.textContent = `${json.file}: ${json.rows_read} rows read, ${json.inserted} imported, ${json.invalid} refused for their data, `
    + `${json.duplicates_in_file} duplicates in the file, ${json.duplicates_in_campaign} already in the campaign, `
    + `${json.do_not_call} on a do-not-call list, ${json.numbers_dropped} numbers left out.`
    + (json.previously_imported_at ? ` The same file was imported on ${new Date(json.previously_imported_at).toLocaleString()}.` : "")
    + (json.encoding_note ? ` Note: the file was ${json.encoding_note}.` : "");
  summary.dataset.inserted = json.inserted;
  out.append(summary);
  if (json.issues.length) {
    const table = document.createElement("table");
    table.id = "import-issues";
    const head = document.createElement("thead");
    head.append(row(["Row", "Column", "Field", "Value", "Why", "What happened"]));
    const body = document.createElement("tbody");
    body.append(...json.issues.map((i) => row([i.row, i.column, i.field || "", i.value, i.reason, i.action === "rejected" ? "row refused" : "number left out"])));
    table.append(head, body);
    out.append(table);
    if (json.issues_total > json.issues.length) {
      const more = document.createElement("p");
      more.className = "muted";
      more.textContent = `${json.issues_total - json.issues.length} more problems not shown.`;
      out.append(more);
    }
  }
  refreshSample();
});

$("allocate").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const ticked = [...$("records").querySelectorAll("tbody input[type=checkbox]:checked")].map((t) => Number(t.value));
  const body = { agent: f.get("agent") || null, team: f.get("team") || null, nobody: f.get("nobody") === "on" };
  if (ticked.length) body.records = ticked;
  else {
    body.limit = Number(f.get("limit")) || null;
    body.status = $("record-filter").status.value || null;
  }
  const done = await api("POST", `${campaignPath()}/records/assign`, body);
  if (done.ok) $("notice").textContent = `allocated ${done.json.assigned} of ${done.json.of} record(s)`;
  records();
});
