// lpfiqa web page: drop or pick images, POST each to /v1/map, show score, diagnosis and the map overlays.
// No build step and no external resources: this file, app.css and index.html are served by the app.
"use strict";

const state = { model: null, rows: [], selected: null, sort: "none", queue: Promise.resolve() };
const $ = (sel) => document.querySelector(sel);

function fmt(x, digits = 2) { return x === null || x === undefined ? "" : Number(x).toFixed(digits); }

async function loadModel() {
  try {
    const r = await fetch("/v1/model");
    state.model = await r.json();
    const m = state.model;
    $("#model").textContent = `${m.model} (${m.model_version}): ${m.score_name}, ` +
      `${m.score_range[0].toFixed(1)}\u2013${m.score_range[1].toFixed(1)}, ${m.direction}`;
  } catch (err) {
    $("#model").textContent = "could not reach the service: " + err;
  }
}

function diagnosisText(row) {
  if (!row.diagnosis) return "";
  const top = Object.entries(row.diagnosis).sort((a, b) => b[1] - a[1]).slice(0, 3);
  return `${row.top_family}: ` + top.map(([k, v]) => `${k} ${fmt(v)}`).join(", ");
}

function sortedRows() {
  const rows = state.rows.slice();
  if (state.sort === "none") return rows;
  const sign = state.sort === "ascending" ? 1 : -1;
  const key = (r) => (r.score === undefined || r.score === null ? null : r.score);
  return rows.sort((a, b) => {
    const ka = key(a), kb = key(b);
    if (ka === null && kb === null) return 0;
    if (ka === null) return 1;  // failures last, both ways
    if (kb === null) return -1;
    return sign * (ka - kb);
  });
}

function render() {
  const body = $("#results tbody");
  body.replaceChildren();
  for (const row of sortedRows()) {
    const tr = document.createElement("tr");
    tr.dataset.id = row.id;
    if (state.selected === row.id) tr.classList.add("selected");
    const thumb = document.createElement("td");
    if (row.overlays) {
      const img = document.createElement("img");
      img.src = row.overlays.weight;
      img.alt = "";
      thumb.append(img);
    }
    const name = document.createElement("td");
    name.className = "file";
    name.textContent = row.filename;
    const score = document.createElement("td");
    const size = document.createElement("td");
    const diag = document.createElement("td");
    if (row.error) {
      score.className = "error";
      score.textContent = "failed";
      diag.className = "error";
      diag.textContent = row.error;
    } else if (row.pending) {
      score.textContent = "\u2026";
    } else {
      score.className = "score";
      score.textContent = fmt(row.score);
      size.textContent = `${row.width}\u00d7${row.height}`;
      diag.className = "diag";
      diag.textContent = diagnosisText(row);
    }
    tr.append(thumb, name, score, size, diag);
    tr.addEventListener("click", () => select(row.id));
    body.append(tr);
  }
  $("#sort-score").setAttribute("aria-sort", state.sort);
  $("#table").hidden = state.rows.length === 0;
}

function currentMap() { return document.querySelector('input[name="map"]:checked').value; }

function showSelected() {
  const row = state.rows.find((r) => r.id === state.selected);
  if (!row || !row.overlays) { $("#viewer").hidden = true; return; }
  const kind = currentMap();
  $("#viewer").hidden = false;
  $("#overlay").src = row.overlays[kind];
  $("#overlay").dataset.map = kind;
  $("#caption").textContent = `${row.filename}: ${fmt(row.score)}` + (row.diagnosis ? ` (${row.top_family})` : "");
  const m = state.model;
  $("#legend").textContent = kind === "weight"
    ? "dark: ignored \u2192 yellow: decides the score"
    : `red: low quality \u2192 green: high quality` + (m ? ` (${m.direction})` : "");
}

function select(id) {
  state.selected = id;
  render();
  showSelected();
}

async function scoreFile(row, file) {
  try {
    const r = await fetch("/v1/map", {
      method: "POST", body: file, headers: { "Content-Type": file.type || "application/octet-stream" },
    });
    const answer = await r.json();
    if (!r.ok) {
      row.error = answer.error || `HTTP ${r.status}`;
    } else {
      Object.assign(row, answer, { filename: row.filename });
    }
  } catch (err) {
    row.error = "network error: " + err;
  }
  row.pending = false;
  if (state.selected === null && !row.error) state.selected = row.id;
  const done = state.rows.filter((r) => !r.pending).length;
  $("#status").textContent = `scored ${done} of ${state.rows.length}`;
  render();
  showSelected();
}

let nextId = 0;
function addFiles(files) {
  for (const file of files) {
    const row = { id: nextId++, filename: file.name || "image", pending: true };
    state.rows.push(row);
    state.queue = state.queue.then(() => scoreFile(row, file));  // one at a time, in order
  }
  render();
}

function toCsv() {
  const families = (state.model && state.model.diagnosis_families) || [];
  const head = ["filename", "score", "width", "height", "top_family", ...families, "error"];
  const quote = (v) => {
    const s = v === undefined || v === null ? "" : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [head.join(",")];
  for (const r of sortedRows()) {
    const diag = families.map((f) => (r.diagnosis ? fmt(r.diagnosis[f], 4) : ""));
    lines.push([r.filename, r.error ? "" : fmt(r.score, 4), r.width, r.height, r.top_family, ...diag, r.error]
      .map(quote).join(","));
  }
  return lines.join("\r\n") + "\r\n";
}

function downloadCsv() {
  const url = URL.createObjectURL(new Blob([toCsv()], { type: "text/csv" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = "lpfiqa-scores.csv";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function setup() {
  const drop = $("#drop");
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add("over"); });
  }
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    addFiles(e.dataTransfer.files);
  });
  $("#pick").addEventListener("change", (e) => { addFiles(e.target.files); e.target.value = ""; });
  for (const radio of document.querySelectorAll('input[name="map"]')) radio.addEventListener("change", showSelected);
  const sort = () => {
    state.sort = state.sort === "descending" ? "ascending" : "descending";
    render();
  };
  $("#sort-score").addEventListener("click", sort);
  $("#sort-score").addEventListener("keydown", (e) => { if (e.key === "Enter") sort(); });
  $("#csv").addEventListener("click", downloadCsv);
  $("#clear").addEventListener("click", () => { state.rows = []; state.selected = null; render(); showSelected(); });
  window.lpfiqa = { state, toCsv };  // for tests and the console
  loadModel();
}

setup();
