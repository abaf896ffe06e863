// The admin console's questionnaire preview: a published version, or the file chosen for a
// check, walked through as the interviewer sees it (text, options, answers, validation
// messages, back). The server replays the steps in memory on each call; nothing is stored.
"use strict";

const preview = { source: null, steps: [] };

async function previewStep(step) {
  const steps = step === undefined ? preview.steps : [...preview.steps, step];
  const query = new URLSearchParams({ steps: JSON.stringify(steps) });
  let body;
  if (preview.source.version) query.set("version", preview.source.version);
  else {
    query.set("file", preview.source.file.name);
    body = preview.source.file.bytes;
  }
  const { ok, json } = await api("POST", `/api/questionnaires/preview?${query}`, body, true);
  if (!ok) return;
  // A refused step is not taken: the steps are those the server took.
  preview.steps = steps.slice(0, json.steps);
  showPreview(json);
}

function showPreview(p) {
  $("preview").hidden = false;
  $("preview-title").textContent = `${p.title} (${p.key} version ${p.version}, ${p.language})`;
  $("preview-refused").textContent = p.refused ? p.refused.message : "";
  $("preview-back").disabled = preview.steps.length === 0;
  const shown = p.shown;
  const form = $("preview-answer");
  form.replaceChildren();
  $("preview-next").hidden = !shown;
  if (!shown) {
    $("preview-text").textContent = "";
    $("preview-hint").textContent = "";
    $("preview-progress").value = 1;
    const end = { complete: "The interview is complete.", screened_out: `Screened out at ${p.state.at}.`, terminated: `Ended: ${p.state.reason}.` };
    $("preview-end").textContent = end[p.state.state] || p.state.state;
    return;
  }
  $("preview-end").textContent = "";
  $("preview-progress").value = shown.progress;
  $("preview-text").textContent = shown.text;
  $("preview-text").dataset.question = shown.name;
  $("preview-hint").textContent = shown.hint || "";
  const given = shown.answer;
  if (shown.kind === "single_choice" || shown.kind === "multiple_choice") {
    const list = document.createElement("ol");
    list.id = "preview-options";
    shown.options.forEach(([name, label]) => {
      const li = document.createElement("li");
      const pick = document.createElement("input");
      pick.type = shown.kind === "single_choice" ? "radio" : "checkbox";
      pick.name = "option";
      pick.value = name;
      pick.checked = Array.isArray(given) ? given.includes(name) : given === name;
      const l = document.createElement("label");
      l.append(pick, ` ${label}`);
      li.append(l);
      list.append(li);
    });
    form.append(list);
  } else if (shown.kind !== "note") {
    const field = document.createElement("input");
    field.name = "value";
    field.id = "preview-value";
    field.type = ["integer", "decimal", "rating"].includes(shown.kind) ? "number" : shown.kind === "date" ? "date" : "text";
    if (field.type === "number") field.step = "any";
    field.value = given === null || given === undefined ? "" : String(given);
    field.setAttribute("aria-label", "answer");
    form.append(field);
    field.focus();
  }
  form.dataset.kind = shown.kind;
}

function previewAnswer() {
  const form = $("preview-answer");
  const kind = form.dataset.kind;
  if (kind === "note") return null;
  if (kind === "single_choice") {
    const picked = form.querySelector("input:checked");
    return picked ? picked.value : null;
  }
  if (kind === "multiple_choice") return [...form.querySelectorAll("input:checked")].map((i) => i.value);
  const value = form.value ? form.value.value : "";
  if (value === "") return null;
  return ["integer", "decimal", "rating"].includes(kind) ? Number(value) : value;
}

$("preview-start").addEventListener("submit", async (e) => {
  e.preventDefault();
  const from = e.submitter ? e.submitter.value : "version";
  if (from === "file") {
    const file = $("questionnaire").file.files[0];
    if (!file) {
      $("error").textContent = "choose a questionnaire file above first (file)";
      return;
    }
    preview.source = { file: { name: file.name, bytes: await file.arrayBuffer() } };
  } else {
    if (!e.target.version.value) return;
    preview.source = { version: e.target.version.value };
  }
  preview.steps = [];
  previewStep();
});

$("preview-next").onclick = () => previewStep({ answer: previewAnswer() });
$("preview-back").onclick = () => previewStep("back");
$("preview-answer").addEventListener("submit", (e) => {
  e.preventDefault();
  previewStep({ answer: previewAnswer() });
});
