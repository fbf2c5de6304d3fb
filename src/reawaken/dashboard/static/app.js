// reawaken dashboard page: forms -> the app's JSON API -> charts. Every number shown comes from the API;
// the page only lays it out. Lists (hosts, interventions, species, arms, cohort keys) come from the API too.
"use strict";

const $ = (sel, root) => (root || document).querySelector(sel);
const C = () => window.Charts;
let OPTIONS = null;
let previous = null; // the last scenario result, drawn dashed under the new one
let simTimer = null, simSeq = 0;

function showError(msg) {
  const e = $("#error");
  e.textContent = msg;
  e.hidden = !msg;
}

async function api(path, body, method) {
  const init = { method: method || (body === undefined ? "GET" : "POST"), headers: {} };
  if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  const r = await fetch(path, init);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.detail || `${r.status} ${r.statusText}`);
  return data;
}

function h(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function option(sel, values, chosen) {
  sel.innerHTML = "";
  for (const v of values) { const o = h("option", { value: v }, v); if (v === chosen) o.selected = true; sel.appendChild(o); }
}

function table(head, rows, leftCols) {
  const wrap = h("div", { class: "table-wrap" });
  const t = h("table");
  const tr = h("tr");
  head.forEach((x, i) => tr.appendChild(h("th", i < (leftCols || 1) ? { class: "l" } : {}, x)));
  t.appendChild(tr);
  for (const r of rows) {
    const row = h("tr");
    r.forEach((x, i) => row.appendChild(h("td", i < (leftCols || 1) ? { class: "l" } : {}, x)));
    t.appendChild(row);
  }
  wrap.appendChild(t);
  return wrap;
}

// --- tabs ---------------------------------------------------------------------------------------------
function showView(name) {
  for (const b of document.querySelectorAll("nav button")) b.setAttribute("aria-selected", b.dataset.view === name);
  for (const s of document.querySelectorAll("section.view")) s.hidden = s.id !== name;
  if (name === "registry") loadRegistryList();
  if (name === "cohort") refreshJobs();
}

// --- mechanism explorer -------------------------------------------------------------------------------
function buildInterventions() {
  const box = $("#interventions");
  for (const iv of OPTIONS.interventions) {
    const div = h("div", { class: "iv", "data-name": iv.name, title: iv.doc });
    const lab = h("label");
    const cb = h("input", { type: "checkbox", name: "iv-" + iv.name, "data-iv": iv.name });
    lab.appendChild(cb); lab.appendChild(document.createTextNode(iv.name));
    div.appendChild(lab);
    for (const s of iv.settings) {
      const l = h("label", {}, s.key + " ");
      const inp = h("input", { type: "number", step: "any", "data-iv": iv.name, "data-key": s.key,
        value: s.default === null ? "" : s.default, placeholder: s.default === null ? "∞" : "" });
      l.appendChild(inp);
      div.appendChild(l);
    }
    box.appendChild(div);
  }
}

function scenarioRequest() {
  const f = $("#scenario-form");
  const days = [Number(f.day1.value)];
  if (f.day2.value !== "") days.push(Number(f.day2.value));
  const interventions = [];
  for (const cb of f.querySelectorAll("input[type=checkbox][data-iv]")) {
    if (!cb.checked) continue;
    const settings = {};
    for (const inp of f.querySelectorAll(`input[type=number][data-iv="${cb.dataset.iv}"]`)) {
      if (inp.value !== "") settings[inp.dataset.key] = Number(inp.value);
    }
    interventions.push({ name: cb.dataset.iv, settings });
  }
  return { host: f.host.value, virus: f.virus.value, days: Number(f.days.value), infection_days: days, interventions };
}

function scheduleSimulate() {
  clearTimeout(simTimer);
  simTimer = setTimeout(runSimulate, 250);
}

async function runSimulate() {
  const seq = ++simSeq;
  $("#sim-status").textContent = "simulating…";
  try {
    const res = await api("/api/simulate", scenarioRequest());
    if (seq !== simSeq) return; // a newer request is on its way
    showError("");
    drawScenario(res);
    $("#sim-status").textContent = `${res.label}: computed in ${res.elapsed_s} s (parameter set: ${res.parameter_set}). ` +
      `IL-6 peak ${C().fmt(res.readouts.il6_peak_pg_ml)} pg/mL on day ${C().fmt(res.readouts.il6_peak_day)}.`;
    $("#sim-status").dataset.label = res.label;
    previous = res;
  } catch (e) {
    if (seq === simSeq) { showError(e.message); $("#sim-status").textContent = "not simulated"; }
  }
}

function unitOf(res, name) { const s = res.species.find((x) => x.name === name); return s ? s.unit : ""; }

function seriesFor(res, names, prev) {
  const out = [];
  names.forEach((n, i) => {
    if (!res.series[n]) return;
    const color = C().PALETTE[i % C().PALETTE.length];
    out.push({ name: n, x: res.time_days, y: res.series[n], color });
    if (prev && prev.series[n] && prev.label !== res.label) {
      out.push({ name: n + " (previous: " + prev.label + ")", x: prev.time_days, y: prev.series[n], color, dash: true });
    }
  });
  return out;
}

function dccSpecies(res) {
  // DCC pools are the species whose description names DCCs and which count cells (new pools appear here).
  // (T cells "around DCCs" and the cumulative awakening counter are not pools).
  return res.species.filter((s) => /\bDCCs?\b/.test(s.doc) && s.unit === "cells" &&
    !/T cells|cumulative|counter/i.test(s.doc))
    .map((s) => s.name);
}

function dccGroups(res) {
  // One panel per site: "bone_dormant" belongs to "bone", plain "dormant" to the lung (the model's naming).
  const groups = new Map();
  for (const name of dccSpecies(res)) {
    const site = name.includes("_") ? name.split("_")[0] : "lung";
    if (!groups.has(site)) groups.set(site, []);
    groups.get(site).push(name);
  }
  return [...groups.entries()];
}

function drawScenario(res) {
  const box = $("#sim-charts");
  box.innerHTML = "";
  const il6Unit = unitOf(res, "il6");
  const il6 = res.species.filter((x) => /^il6/.test(x.name) && x.unit === il6Unit).map((x) => x.name);
  const panels = [
    ["virus", ["virus"], "Virus: how much and how long. Compare the peak day and clearance between runs."],
    ["IL-6", il6, "IL-6 is what the mechanism makes of the virus; it drives awakening. Look at peak height and width."],
    ["T cells", ["cd8", "cd4"], "CD8 effectors kill awakened DCCs; CD4 cells near DCCs shield them."],
  ];
  for (const [site, names] of dccGroups(res)) {
    panels.push([site === "lung" ? "DCC states" : `DCC states (${site})`, names,
      site === "lung" ? "Dormant cells awaken, expand and return to a larger primed dormant pool." :
        `DCC pools in the ${site}: compare with the lung panel.`]);
  }
  for (const [title, names, cap] of panels) {
    const div = h("div", { class: "panel", "data-panel": title });
    box.appendChild(div);
    const unit = names.length ? unitOf(res, names[0]) : "";
    const yLabel = title.startsWith("DCC") ? `DCCs (${unit})` : `${names.join(", ")} (${unit})`;
    C().lineChart(div, { title, xLabel: "days after day 0 (d)", yLabel, log: true,
      yMin: title === "virus" ? 1e-2 : undefined, series: seriesFor(res, names, previous), caption: cap,
      vlines: res.infection_days.map((x) => ({ x })) });
  }
  // DCC fold at the sampling days (API read-outs) with the published targets for this host and virus.
  const days = Object.keys(res.readouts.dcc_fold).map(Number);
  const fold = Object.values(res.readouts.dcc_fold);
  const ranges = OPTIONS.target_overlays.filter((t) => t.host === res.host && t.virus === res.virus && t.day <= Math.max(...days))
    .map((t) => ({ x0: t.day, x1: t.day, low: t.low, high: t.high, label: t.label }));
  const foldDiv = h("div", { class: "panel", "data-panel": "fold" });
  box.appendChild(foldDiv);
  const series = [{ name: "DCC fold (this run)", x: days, y: fold, points: true, color: "#1f4e79" }];
  if (previous && previous.label !== res.label) {
    series.push({ name: "previous: " + previous.label, x: Object.keys(previous.readouts.dcc_fold).map(Number),
      y: Object.values(previous.readouts.dcc_fold), points: true, color: "#aaa" });
  }
  C().lineChart(foldDiv, { title: "Lung DCC burden at the sampling days", xLabel: "days after first infection (d)",
    yLabel: "total lung DCCs / day-0 count (fold)", log: true, series, ranges,
    caption: "Dots: the model's fold change on the paper's sampling days. Green boxes: accepted ranges of the " +
      "published mouse targets for an untreated infection of this host and virus (hover for the claim)." });
  const pick = $("#species-pick");
  if (!pick.options.length) option(pick, res.species.map((s) => s.name), "niche");
  drawSpecies(res);
}

function drawSpecies(res) {
  res = res || previous;
  if (!res) return;
  const name = $("#species-pick").value;
  const sp = res.species.find((s) => s.name === name);
  if (!sp) return;
  C().lineChart($("#species-chart"), { title: name, xLabel: "days after day 0 (d)", yLabel: `${name} (${sp.unit})`,
    series: [{ name, x: res.time_days, y: res.series[name] }], caption: sp.doc });
}

async function runStochastic(ev) {
  ev.preventDefault();
  const f = $("#stochastic-form");
  const body = { ...scenarioRequest(), replicates: Number(f.replicates.value), seed: Number(f.seed.value),
    lesion_threshold: Number(f.lesion_threshold.value), method: "tau-leap" };
  $("#sto-status").textContent = "running stochastic lungs…";
  try {
    const r = await api("/api/stochastic", body);
    showError("");
    const ro = r.readouts;
    $("#sto-status").textContent = `${ro.replicates} lungs: P(no lesion) = ${C().fmt(ro.lesions_p_zero)}, ` +
      `mean lesions per lung ${C().fmt(ro.lesions_mean)} (lesion = clone of at least ${ro.lesion_threshold_cells} cells; ` +
      `${r.elapsed_s} s).`;
    const box = $("#sto-charts");
    box.innerHTML = "";
    const days = Object.keys(ro.p_lesion_by_day).map(Number);
    const a = h("div"), b = h("div");
    box.appendChild(a); box.appendChild(b);
    C().lineChart(a, { title: "P(at least one lesion) by day", xLabel: "days after first infection (d)",
      yLabel: "share of lungs (1)", series: [{ name: "P(lesion)", x: days, y: Object.values(ro.p_lesion_by_day), points: true }],
      caption: "Share of simulated lungs with at least one lesion; 1 − this is P(no lesion)." });
    const q = ro.dcc_fold_quantiles;
    const qd = Object.keys(q).map(Number);
    C().lineChart(b, { title: "DCC fold across lungs", xLabel: "days after first infection (d)", yLabel: "lung DCCs / day-0 count (fold)",
      log: true, series: [{ name: "median", x: qd, y: qd.map((d) => q[d][1]), low: qd.map((d) => q[d][0]), high: qd.map((d) => q[d][2]) }],
      caption: "Median and the spread between lungs (band: the quantiles the API reports)." });
  } catch (e) { showError(e.message); $("#sto-status").textContent = "not run"; }
}

// --- cohort jobs --------------------------------------------------------------------------------------
let watching = null;

async function buildCohortForm() {
  const box = $("#arms");
  OPTIONS.arms.forEach((a, i) => {
    const l = h("label");
    l.style.flexDirection = "row";
    const cb = h("input", { type: "checkbox", name: "arm", value: a });
    if (i === 0 || a === "no-infection") cb.checked = true;
    l.appendChild(cb); l.appendChild(document.createTextNode(" " + a));
    box.appendChild(l);
  });
  $("#cohort-form").n.max = OPTIONS.limits.max_cohort_n;
  const schema = await api("/api/cohort/schema");
  const adv = $("#advanced-fields");
  for (const r of schema) {
    if (r.type !== "number" || !["people", "influenza", "sars_cov_2"].includes(r.section)) continue;
    const l = h("label", { title: r.doc + (r.source ? " — " + r.source : "") }, `[${r.section}] ${r.key} (${r.unit || "1"})`);
    const inp = h("input", { type: "number", step: "any", "data-section": r.section, "data-key": r.key,
      placeholder: String(r.default) });
    if (r.bounds) { if (isFinite(r.bounds[0])) inp.min = r.bounds[0]; if (r.bounds[1] !== null && isFinite(r.bounds[1])) inp.max = r.bounds[1]; }
    l.appendChild(inp);
    adv.appendChild(l);
  }
}

async function startJob(ev) {
  ev.preventDefault();
  const f = $("#cohort-form");
  const arms = [...f.querySelectorAll("input[name=arm]:checked")].map((x) => x.value);
  const overrides = {};
  for (const inp of f.querySelectorAll("#advanced-fields input")) {
    if (inp.value === "") continue;
    (overrides[inp.dataset.section] = overrides[inp.dataset.section] || {})[inp.dataset.key] = Number(inp.value);
  }
  try {
    const job = await api("/api/jobs", { n: Number(f.n.value), years: Number(f.years.value), seed: Number(f.seed.value),
      arms, overrides });
    showError("");
    watch(job.id);
  } catch (e) { showError(e.message); }
}

function watch(id) {
  if (watching) watching.close();
  watching = new EventSource(`/api/jobs/${id}/events`);
  watching.onmessage = (m) => {
    const job = JSON.parse(m.data);
    refreshJobs();
    if (["finished", "failed", "cancelled"].includes(job.state)) {
      watching.close(); watching = null;
      if (job.state === "finished") showResults(job.id);
    }
  };
  watching.onerror = () => { if (watching) { watching.close(); watching = null; } };
  refreshJobs();
}

async function refreshJobs() {
  let jobs;
  try { jobs = await api("/api/jobs"); } catch (e) { showError(e.message); return; }
  const box = $("#jobs");
  box.innerHTML = "";
  if (!jobs.length) { box.appendChild(h("p", { class: "note" }, "No jobs yet.")); return; }
  const rows = jobs.map((j) => {
    const prog = h("span", { class: "progress", title: `${j.done}/${j.total} chunks` });
    const bar = h("span");
    bar.style.width = Math.round(100 * j.fraction) + "%";
    prog.appendChild(bar);
    return [j.id, `${j.request.n} people, ${j.request.years} y, ${j.request.arms.join(", ")}`, j.state, prog, j.message, j];
  });
  const wrap = table(["job", "what", "state", "progress", "message", ""], [], 2);
  const t = wrap.querySelector("table");
  for (const [id, what, state, prog, msg, j] of rows) {
    const tr = h("tr", { "data-job": id, "data-state": state });
    tr.appendChild(h("td", { class: "l" }, id));
    tr.appendChild(h("td", { class: "l" }, what));
    tr.appendChild(h("td", { class: "l state-" + state }, state));
    const tdp = h("td", { class: "l" });
    tdp.appendChild(prog);
    tdp.appendChild(document.createTextNode(` ${j.done}/${j.total}`));
    tr.appendChild(tdp);
    tr.appendChild(h("td", { class: "l" }, msg));
    const act = h("td", { class: "l" });
    if (["queued", "running"].includes(state)) {
      const b = h("button", { class: "cancel" }, "Cancel");
      b.onclick = async () => { try { await api(`/api/jobs/${id}/cancel`, {}); refreshJobs(); } catch (e) { showError(e.message); } };
      act.appendChild(b);
    }
    if (["cancelled", "failed"].includes(state)) {
      const b = h("button", { class: "resume" }, "Resume");
      b.onclick = async () => { try { await api(`/api/jobs/${id}/resume`, {}); watch(id); } catch (e) { showError(e.message); } };
      act.appendChild(b);
    }
    if (state === "finished") {
      const b = h("button", { class: "results" }, "Results");
      b.onclick = () => showResults(id);
      act.appendChild(b);
    }
    tr.appendChild(act);
    t.appendChild(tr);
  }
  box.appendChild(wrap);
}

async function showResults(id) {
  let r;
  try { r = await api(`/api/jobs/${id}/results`); } catch (e) { showError(e.message); return; }
  const box = $("#job-results");
  box.innerHTML = "";
  box.appendChild(h("h3", {}, `Results of job ${id}`));
  const s = r.summary;
  box.appendChild(h("p", { class: "note" }, `${s.n_persons} people, ${Math.round(s.person_years)} person-years; reference arm ` +
    `'${s.reference_arm}'. Bands and error bars are 95% Monte Carlo intervals (Wilson for shares; ±1.96 paired SE for ` +
    "relapses averted)."));
  const charts = h("div", { class: "charts" });
  box.appendChild(charts);
  const a = h("div"), b = h("div");
  charts.appendChild(a); charts.appendChild(b);
  const arms = Object.keys(r.curves.arms);
  C().lineChart(a, { title: "Cumulative lung metastasis by arm", xLabel: "years of follow-up (y)",
    yLabel: "people with a lung metastasis (%)",
    series: arms.map((arm) => ({ name: arm, x: r.curves.years, y: r.curves.arms[arm].risk.map((v) => 100 * v),
      low: r.curves.arms[arm].low.map((v) => 100 * v), high: r.curves.arms[arm].high.map((v) => 100 * v), step: true })),
    caption: "Share of the cohort diagnosed with a lung metastasis by each time (deaths compete). Where bands overlap, " +
      "this cohort size cannot tell the arms apart." });
  const rows = Object.entries(s.arms).filter(([arm]) => arm !== s.reference_arm).map(([arm, c]) => ({
    label: arm, est: c.averted_per_1000, low: c.averted_per_1000 - 1.96 * c.averted_per_1000_se_paired,
    high: c.averted_per_1000 + 1.96 * c.averted_per_1000_se_paired }));
  if (rows.length) {
    C().intervalChart(b, { title: `Lung metastases averted vs '${s.reference_arm}'`, xLabel: "averted per 1,000 people",
      ref: 0, rows, estLabel: "averted per 1,000 (±1.96 paired SE)",
      caption: "Right of the dashed line: fewer lung metastases than the reference arm." });
  }
  const head = ["arm", "infections", "lung metastases", "breast-cancer deaths", "anti-IL-6 doses", "averted / 1,000", "paired SE"];
  box.appendChild(table(head, Object.entries(s.arms).map(([arm, c]) => [arm, c.infections, c.lung_metastases,
    c.cancer_deaths, c.anti_il6_doses, C().fmt(c.averted_per_1000), C().fmt(c.averted_per_1000_se_paired)])));
  const dl = h("p", { class: "downloads" }, "Downloads: ");
  for (const name of r.downloads) {
    dl.appendChild(h("a", { href: `/api/jobs/${id}/files/${name}`, download: `reawaken-${id}-${name}` }, name));
    dl.appendChild(document.createTextNode(" "));
  }
  box.appendChild(dl);
}

// --- registry -----------------------------------------------------------------------------------------
async function loadRegistryList() {
  let r;
  try { r = await api("/api/registry"); } catch (e) { showError(e.message); return; }
  const ul = $("#registry-list");
  ul.innerHTML = "";
  if (!r.folders.length) {
    ul.appendChild(h("li", { class: "note" }, r.root ? `No analyze outputs in ${r.root}.` :
      "Start the server with --registry-dir DIR (a folder holding `reawaken analyze --out` folders)."));
  }
  for (const f of r.folders) {
    const li = h("li");
    const b = h("button", { "data-folder": f.name }, `${f.name} (${f.study})`);
    b.onclick = () => openRegistry(f.name);
    li.appendChild(b);
    ul.appendChild(li);
  }
}

async function openRegistry(name) {
  let r;
  try { r = await api(`/api/registry/${encodeURIComponent(name)}`); } catch (e) { showError(e.message); return; }
  showError("");
  const res = r.results;
  const box = $("#registry-view");
  box.innerHTML = "";
  box.appendChild(h("h3", {}, `Study ${res.study} (${name})`));
  box.appendChild(h("p", { class: "note" }, `${res.n_persons} persons, ${res.n_events} events, ` +
    `${Math.round(res.person_years)} person-years.`));
  const charts = h("div", { class: "charts" });
  box.appendChild(charts);
  const fdiv = h("div", { "data-chart": "forest" }), kdiv = h("div", { "data-chart": "km" });
  charts.appendChild(fdiv); charts.appendChild(kdiv);
  const planted = res.planted || {};
  C().intervalChart(fdiv, { title: "Hazard ratios (forest plot)", xLabel: "hazard ratio (95% CI, robust SE; log scale)",
    log: true, ref: 1, rows: res.hazard_ratios.map((x) => ({ label: x.term, est: x.hr, low: x.ci_low, high: x.ci_high,
      mark: planted[x.term] })),
    refLines: r.published ? [{ x: r.published.hr, label: r.published.label + " (published)" }] : [],
    caption: "Right of 1: a higher hazard of the outcome in that window after an infection than before any recorded " +
      "infection." + (Object.keys(planted).length ? " × marks the truth planted in this registry: the CI should cover it." : "") });
  const curves = Object.entries(r.km);
  C().lineChart(kdiv, { title: "Outcome-free survival (Kaplan–Meier)", xLabel: "years since index (y)",
    yLabel: "outcome-free probability (1)", zero: false,
    series: curves.map(([label, c]) => ({ name: label, x: c.day.map((d) => d / 365.25), y: c.survival, low: c.ci_low,
      high: c.ci_high, step: true })),
    caption: "Curves by current exposure state (Simon–Makuch); bands are pointwise 95% intervals." });
  // numbers at risk just after whole years, read from km.json: the first row after each year (a row at t counts
  // who is at risk just after t), as the report's KM figure does
  const years = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const atRisk = curves.map(([label, c]) => [label, ...years.map((y) => {
    const i = c.day.findIndex((d) => d > y * 365.25);
    return i < 0 ? "–" : String(c.at_risk[i]);
  })]);
  box.appendChild(h("h4", {}, "Numbers at risk"));
  box.appendChild(table(["curve", ...years.map((y) => `${y} y`)], atRisk));
  box.appendChild(h("h4", {}, "Hazard ratios"));
  box.appendChild(table(["term", "HR", "95% CI", "p", "planted"], res.hazard_ratios.map((x) => [x.term, C().fmt(x.hr),
    `${C().fmt(x.ci_low)}–${C().fmt(x.ci_high)}`, C().fmt(x.p), planted[x.term] === undefined ? "" : C().fmt(planted[x.term])])));
  box.appendChild(h("h4", {}, "Incidence by window"));
  box.appendChild(table(["window", "events", "person-years (y)", "per 1,000 person-years"], Object.entries(res.incidence)
    .map(([k, v]) => [k, v.events, C().fmt(v.person_years), C().fmt(v.rate_per_1000_py)])));
  box.appendChild(h("h4", {}, "Attrition"));
  box.appendChild(table(["step", "persons"], Object.entries(res.attrition).map(([k, v]) => [k, v])));
}

// --- survivor risk ------------------------------------------------------------------------------------
async function runRisk(ev) {
  ev.preventDefault();
  const f = $("#risk-form");
  const body = { age: Number(f.age.value), subtype: f.subtype.value, t_stage: f.t_stage.value, nodes: f.nodes.value,
    years_since_diagnosis: Number(f.years_since_diagnosis.value), vaccinated: f.vaccinated.checked, virus: f.virus.value,
    n: Number(f.n.value) };
  $("#risk-status").textContent = "simulating a profile-matched cohort…";
  try {
    const r = await api("/api/risk", body);
    showError("");
    $("#risk-status").textContent = `${r.n} virtual people with this profile, ${r.follow_up.years} years from ${r.follow_up.start}; ` +
      `parameter set: ${r.parameter_set.provenance} (the model's defaults).`;
    const box = $("#risk-results");
    box.innerHTML = "";
    for (const [outcome, arms] of Object.entries(r.outcomes)) {
      box.appendChild(h("h3", {}, `Risk of ${outcome}`));
      const rows = [];
      for (const [arm, pts] of Object.entries(arms)) {
        rows.push([arm, ...pts.map((p) => `${C().fmt(100 * p.risk)}% (${C().fmt(100 * p.low)}–${C().fmt(100 * p.high)})`),
          ...pts.map((p) => arm === r.reference ? "1 (reference)" :
            `${C().fmt(p.rr)}` + (isFinite(p.rr_low) && p.rr_low !== null ? ` (${C().fmt(p.rr_low)}–${C().fmt(p.rr_high)})` : " (no discordant pairs)"))]);
      }
      box.appendChild(table(["arm", ...r.horizons_years.map((y) => `absolute ${y} y`), ...r.horizons_years.map((y) => `risk ratio vs ${r.reference}, ${y} y`)], rows));
      const div = h("div", { class: "risk-band", "data-outcome": outcome });
      box.appendChild(div);
      const last = r.horizons_years.length - 1;
      C().intervalChart(div, { title: `${outcome}: absolute risk at ${r.horizons_years[last]} years`,
        xLabel: "people with the outcome (%)", rows: Object.entries(arms).map(([arm, pts]) => ({ label: arm,
          est: 100 * pts[last].risk, low: 100 * pts[last].low, high: 100 * pts[last].high })),
        estLabel: "risk with 95% Monte Carlo band",
        caption: "'no-infection': the same people never infected; 'baseline': exposed as they are; the other arms show " +
          "what anti-IL-6 after a severe infection or full vaccination would change." });
    }
  } catch (e) { showError(e.message); $("#risk-status").textContent = "not computed"; }
}

// --- start --------------------------------------------------------------------------------------------
async function start() {
  for (const b of document.querySelectorAll("nav button")) b.onclick = () => showView(b.dataset.view);
  try { OPTIONS = await api("/api/options"); } catch (e) { showError(e.message); return; }
  const f = $("#scenario-form");
  option(f.host, OPTIONS.hosts, "mouse");
  option(f.virus, OPTIONS.viruses, "influenza");
  buildInterventions();
  f.addEventListener("input", scheduleSimulate);
  f.addEventListener("change", scheduleSimulate);
  f.addEventListener("submit", (e) => { e.preventDefault(); runSimulate(); });
  $("#species-pick").addEventListener("change", () => drawSpecies());
  $("#stochastic-form").addEventListener("submit", runStochastic);
  await buildCohortForm();
  $("#cohort-form").addEventListener("submit", startJob);
  const rf = $("#risk-form");
  option(rf.subtype, OPTIONS.subtypes); option(rf.t_stage, OPTIONS.t_stages); option(rf.nodes, OPTIONS.nodes);
  option(rf.virus, OPTIONS.infecting_viruses, "sars-cov-2");
  rf.n.max = OPTIONS.limits.max_risk_n;
  rf.addEventListener("submit", runRisk);
  document.body.dataset.ready = "1";
  runSimulate();
}

document.addEventListener("DOMContentLoaded", start);
