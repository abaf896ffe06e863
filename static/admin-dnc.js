// The admin console's do-not-call panel: the global list or a campaign's, a number added,
// taken off or checked, a list file uploaded with each refused cell's row.
"use strict";

const dncList = () => $("dnc-list").value;

async function dncEntries() {
  const query = dncList() ? `?campaign=${encodeURIComponent(dncList())}` : "";
  const { ok, json } = await api("GET", `/api/dnc${query}`);
  if (!ok) return;
  $("dnc-entries").querySelector("tbody").replaceChildren(...json.map((e) =>
    row([e.e164, e.campaign || "global", e.source, new Date(e.added_at).toLocaleString()])));
}

$("dnc-list").addEventListener("change", dncEntries);

$("dnc-number").addEventListener("submit", async (e) => {
  e.preventDefault();
  const number = e.target.number.value;
  const action = e.submitter ? e.submitter.value : "check";
  const campaign = dncList() || null;
  let done;
  if (action === "check") {
    const query = new URLSearchParams({ number });
    if (campaign) query.set("campaign", campaign);
    done = await api("GET", `/api/dnc/check?${query}`);
    if (done.ok) {
      $("dnc-result").textContent = done.json.listed
        ? `${done.json.e164} may not be called: on ${done.json.entries.map((x) => x.campaign ? `the list of ${x.campaign}` : "the global list").join(" and ")}`
        : `${done.json.e164} is on no list${campaign ? ` for ${campaign}` : ""}`;
    }
    return;
  }
  done = await api("POST", action === "add" ? "/api/dnc" : "/api/dnc/remove", { number, campaign });
  if (done.ok) {
    $("dnc-result").textContent = action === "add"
      ? `${done.json.e164} ${done.json.added ? "added" : "was listed already"}`
      : `${done.json.e164} ${done.json.removed ? "taken off" : "was not on the list"}`;
  }
  dncEntries();
});

$("dnc-upload").addEventListener("submit", async (e) => {
  e.preventDefault();
  const file = e.target.file.files[0];
  if (!file) return;
  const query = new URLSearchParams({ file: file.name });
  if (dncList()) query.set("campaign", dncList());
  const { ok, json } = await api("POST", `/api/dnc/upload?${query}`, await file.arrayBuffer(), true);
  const out = $("dnc-report");
  out.replaceChildren();
  if (!ok) return;
  const p = document.createElement("p");
  p.className = "ok";
  p.textContent = `${json.file}: ${json.read} read, ${json.added} added, ${json.already_listed} listed already, ${json.invalid.length} refused`;
  out.append(p);
  if (json.invalid.length) {
    const list = document.createElement("ul");
    list.className = "error";
    for (const bad of json.invalid) {
      const li = document.createElement("li");
      li.textContent = `row ${bad.row}: '${bad.value}': ${bad.reason}`;
      list.append(li);
    }
    out.append(list);
  }
  dncEntries();
});
