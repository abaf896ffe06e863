// The reports page: a report's chart beside its table (both from /api/reports/...), the same
// query as files to download, and a survey campaign's answers and codebook. It only reads
// (GETs), so it needs no CSRF token.
"use strict";

const $ = (id) => document.getElementById(id);
const form = $("report-form");
const survey = $("survey-form");
const allCampaigns = form.dataset.allCampaigns === "true";
let reports = [];

// Days and hours as the reader's own clock has them, unless they choose another zone.
try {
  $("time-zone").value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
} catch {
  $("time-zone").value = "UTC";
}

function current() {
  return reports.find((r) => r.name === $("report").value);
}

// The page's message under a form: `kind` is "error" for a refusal, "muted" for a notice.
function say(id, text, kind) {
  const line = $(id);
  line.textContent = text || "";
  line.className = text ? kind : "";
}

// Marks the field the API named (and only that one).
function mark(within, field) {
  for (const label of within.querySelectorAll("[data-field]")) {
    label.classList.toggle("bad", label.dataset.field === field);
  }
}

// The query of the report chosen: the options it reads, as filled in.
function reportQuery() {
  const data = new FormData(form);
  const query = new URLSearchParams();
  for (const option of current().options) {
    if (option === "where") {
      addConditions(query, data.get("where"));
      continue;
    }
    const value = (data.get(option) || "").trim();
    if (value) query.set(option, value);
  }
  return query;
}

// Conditions on record fields, written "region=North; age>=40": one `where` each.
function addConditions(query, text) {
  for (const condition of (text || "").split(";")) {
    if (condition.trim()) query.append("where", condition.trim());
  }
}

function reportPath(suffix, query) {
  return `/api/reports/${encodeURIComponent(current().name)}${suffix}?${query}`;
}

// Shows the options the chosen report reads; a survey report needs a campaign chosen.
function chooseReport() {
  const info = current();
  if (!info) return;
  for (const label of form.querySelectorAll("[data-option]")) {
    label.hidden = !info.options.includes(label.dataset.option);
  }
  const picker = $("report-campaign");
  const all = picker.querySelector("option[value='']");
  if (all) all.disabled = info.needs_campaign;
  if (info.needs_campaign && !picker.value) {
    const survey = [...picker.options].find((o) => o.dataset.kind === "survey");
    if (survey) picker.value = survey.value;
  }
  $("about").textContent = info.about;
}

// An instant as the wall clock of `zone` shows it, to the minute.
function inZone(instant, zone) {
  try {
    return new Date(instant).toLocaleString("sv-SE", { timeZone: zone, hour12: false }).slice(0, 16);
  } catch {
    return text(instant);
  }
}

// A table cell's text: numbers rounded to two decimals, times to the minute.
function text(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") {
    return Number.isInteger(value) ? String(value) : value.toLocaleString("en", { maximumFractionDigits: 2 });
  }
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}/.test(value)) {
    return value.slice(0, 16).replace("T", " ");
  }
  return String(value);
}

function renderTable(report) {
  const table = $("report-table");
  const numeric = report.columns.map((_, i) =>
    report.rows.some((r) => typeof r[i] === "number") && report.rows.every((r) => r[i] === null || typeof r[i] === "number"));
  const head = document.createElement("tr");
  report.columns.forEach((name, i) => {
    const th = document.createElement("th");
    th.textContent = name.replaceAll("_", " ");
    if (numeric[i]) th.className = "n";
    head.append(th);
  });
  table.tHead.replaceChildren(head);
  table.tBodies[0].replaceChildren(...report.rows.map((row) => {
    const tr = document.createElement("tr");
    row.forEach((value, i) => {
      const td = document.createElement("td");
      td.textContent = text(value);
      if (numeric[i]) td.className = "n";
      tr.append(td);
    });
    return tr;
  }));
}

// Puts the server's SVG in the page as an element, without anything in it that could run.
function renderChart(svgText) {
  const figure = $("chart");
  const doc = new DOMParser().parseFromString(svgText, "image/svg+xml");
  const svg = doc.documentElement;
  if (svg.nodeName !== "svg") {
    figure.replaceChildren();
    return;
  }
  for (const node of svg.querySelectorAll("script, foreignObject")) node.remove();
  for (const node of [svg, ...svg.querySelectorAll("*")]) {
    for (const attr of [...node.attributes]) {
      if (attr.name.toLowerCase().startsWith("on")) node.removeAttribute(attr.name);
    }
  }
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `chart of the ${current().name} report`);
  figure.replaceChildren(document.importNode(svg, true));
}

async function show(event) {
  if (event) event.preventDefault();
  const info = current();
  if (!info) return;
  const query = reportQuery();
  say("report-message", "Reading the report…", "muted");
  mark(form, null);
  // Drawn a little smaller than the chart's column of the panel and scaled up to fill it:
  // the chart library sizes its text for the picture, and at the column's width that text
  // is the smallest it draws.
  const width = Math.max(320, Math.min(1200, Math.round((form.clientWidth - 16) * 0.4 * 0.8)));
  const picture = new URLSearchParams(query);
  picture.set("image", "svg");
  picture.set("width", String(width));
  picture.set("height", String(Math.round(width * 0.62)));
  const [table, chart] = await Promise.all([
    fetch(reportPath("", query)),
    info.chart ? fetch(reportPath("/chart", picture)) : Promise.resolve(null),
  ]);
  const json = await table.json().catch(() => ({}));
  if (!table.ok) {
    $("result").hidden = true;
    $("downloads").hidden = true;
    if (table.status === 422 && !json.field) {
      say("report-message", json.error || "Nothing to report.", "muted");
    } else {
      say("report-message", json.error || `The report failed (${table.status}).`, "error");
      mark(form, json.field);
    }
    return;
  }
  const zone = info.options.includes("time_zone") ? ($("time-zone").value.trim() || "UTC") : "UTC";
  say("report-message", `${json.rows.length} row${json.rows.length === 1 ? "" : "s"}, ${inZone(json.from, zone)} to ${inZone(json.to, zone)} ${zone}.`, "muted");
  renderTable(json);
  if (json.chart && chart && chart.ok) {
    renderChart(await chart.text());
  } else {
    const note = document.createElement("p");
    note.className = "muted";
    note.textContent = "This report has no chart; its table says it all.";
    $("chart").replaceChildren(note);
  }
  $("result").hidden = false;
  $("downloads").hidden = false;
}

// Fetches a file and saves it under the name the server gives, or says why not.
async function download(path, messageId, within) {
  say(messageId, "Preparing the file…", "muted");
  mark(within, null);
  const response = await fetch(path);
  if (!response.ok) {
    const json = await response.json().catch(() => ({}));
    say(messageId, json.error || `The download failed (${response.status}).`, response.status === 422 && !json.field ? "muted" : "error");
    mark(within, json.field);
    return;
  }
  const disposition = response.headers.get("content-disposition") || "";
  const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || "report";
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  say(messageId, `Saved ${name}.`, "ok");
}

for (const link of $("downloads").querySelectorAll("a[data-format]")) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    const query = reportQuery();
    query.set("format", link.dataset.format);
    download(reportPath("", query), "report-message", form);
  });
}

// The survey panel's query: which interviews, codes or labels.
function surveyPath(what, format) {
  const data = new FormData(survey);
  const query = new URLSearchParams({ format, interviews: data.get("interviews") });
  if (data.get("labels")) query.set("labels", "true");
  addConditions(query, data.get("where"));
  return `/api/campaigns/${encodeURIComponent(data.get("campaign") || "")}/${what}?${query}`;
}

function updateCodebookLink() {
  $("codebook-html").href = surveyPath("codebook", "html");
}

for (const link of document.querySelectorAll("a.answers, a.codebook")) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    const what = link.classList.contains("answers") ? "answers" : "codebook";
    download(surveyPath(what, link.dataset.format), "survey-message", survey);
  });
}

async function start() {
  const [list, campaigns] = await Promise.all([fetch("/api/reports"), fetch("/api/campaigns")]);
  if (!list.ok || !campaigns.ok) {
    say("report-message", `The reports could not be listed (${list.status}).`, "error");
    return;
  }
  reports = await list.json();
  const known = await campaigns.json();
  $("report").replaceChildren(...reports.map((r) => new Option(r.name, r.name)));
  const options = known.map((c) => {
    const option = new Option(c.name, c.name);
    option.dataset.kind = c.kind;
    return option;
  });
  const picker = $("report-campaign");
  if (allCampaigns) picker.append(new Option("all campaigns", ""));
  picker.append(...options);
  const surveys = known.filter((c) => c.kind === "survey");
  $("survey-campaign").replaceChildren(...surveys.map((c) => new Option(c.name, c.name)));
  if (surveys.length === 0) say("survey-message", "There is no survey campaign you may see.", "muted");
  chooseReport();
  updateCodebookLink();
}

$("report").addEventListener("change", chooseReport);
form.addEventListener("submit", show);
survey.addEventListener("change", updateCodebookLink);
survey.addEventListener("input", updateCodebookLink);
start();
