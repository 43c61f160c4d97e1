// The Runs page: lists runs through the API and follows the unfinished ones over Server-Sent Events.
"use strict";
const streams = new Map();

async function api(path, options) {
  const response = await fetch(path, { credentials: "same-origin", headers: { "Content-Type": "application/json" }, ...options });
  const body = await response.json();
  if (!response.ok) { throw new Error((body.field ? body.field + ": " : "") + body.error); }
  return body;
}

function fill(select, values) {
  select.replaceChildren(...values.map(v => { const o = document.createElement("option"); o.value = o.textContent = v; return o; }));
}

function eta(seconds) {
  if (seconds == null) { return ""; }
  const s = Math.round(seconds);
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

function render(run) {
  let row = document.getElementById("run-" + run.id);
  if (!row) {
    row = document.createElement("tr");
    row.id = "run-" + run.id;
    document.getElementById("runs").prepend(row);
  }
  const cells = [run.id, run.method, run.state + (run.error ? ": " + run.error : ""),
    `${run.step}/${run.total_steps}`, run.loss == null ? "" : run.loss.toFixed(4),
    run.it_per_second == null ? "" : run.it_per_second.toFixed(2), eta(run.eta_seconds), run.outputs.join(", ")];
  row.replaceChildren(...cells.map((text, i) => {
    const td = document.createElement("td");
    if (i === 3) {
      const bar = document.createElement("progress");
      bar.max = Math.max(run.total_steps, 1); bar.value = run.step;
      td.append(bar, " " + text);
    } else { td.textContent = text; }
    if (i === 2) { td.className = run.state; }
    return td;
  }));
  const action = document.createElement("td");
  const button = document.createElement("button");
  const final = ["completed", "stopped", "failed"].includes(run.state);
  button.textContent = final ? "Resume" : "Stop";
  button.onclick = async () => { render(await api(`/api/runs/${run.id}/${final ? "resume" : "stop"}`, { method: "POST" })); follow(run.id); };
  action.append(button);
  row.append(action);
  if (!final) { follow(run.id); }
}

function follow(id) {
  if (streams.has(id)) { return; }
  const source = new EventSource(`/api/runs/${id}/events`);
  streams.set(id, source);
  const update = e => render(JSON.parse(e.data));
  source.addEventListener("progress", update);
  for (const name of ["completed", "stopped", "failed"]) {
    source.addEventListener(name, e => { update(e); source.close(); streams.delete(id); });
  }
}

document.getElementById("new-run").addEventListener("submit", async e => {
  e.preventDefault();
  const error = document.getElementById("form-error");
  error.textContent = "";
  try {
    const run = await api("/api/runs", { method: "POST", body: JSON.stringify({
      method: document.getElementById("method").value,
      base_model: document.getElementById("base-model").value,
      dataset: document.getElementById("dataset").value,
      keys: JSON.parse(document.getElementById("keys").value || "{}"),
    }) });
    render(run);
  } catch (x) { error.textContent = x.message; }
});

(async () => {
  if (location.search.includes("token=")) { history.replaceState(null, "", "/"); }
  const catalog = await api("/api/methods");
  fill(document.getElementById("method"), catalog.methods.map(m => m.name));
  fill(document.getElementById("base-model"), await api("/api/models"));
  fill(document.getElementById("dataset"), await api("/api/datasets"));
  for (const run of (await api("/api/runs")).reverse()) { render(run); }
})();
