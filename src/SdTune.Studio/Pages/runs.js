// Runs: the list, and one run's live view (progress, loss, samples) over Server-Sent Events.
"use strict";
const streams = new Map();

function renderRow(run) {
  let row = $("run-" + run.id);
  if (!row) {
    row = element("tr", { id: "run-" + run.id });
    $("runs").prepend(row);
  }
  const cells = [run.id, run.method, run.state + (run.error ? ": " + run.error : ""),
    `${run.step}/${run.total_steps}`, run.loss == null ? "" : run.loss.toFixed(4),
    run.it_per_second == null ? "" : run.it_per_second.toFixed(2), eta(run.eta_seconds), run.outputs.join(", ")];
  row.replaceChildren(...cells.map((text, i) => {
    const td = element("td");
    if (i === 0) {
      td.append(element("a", { href: "/?run=" + encodeURIComponent(run.id), textContent: text }));
    } else if (i === 3) {
      td.append(element("progress", { max: Math.max(run.total_steps, 1), value: run.step }), " " + text);
    } else { td.textContent = text; }
    if (i === 2) { td.className = run.state; }
    return td;
  }));
  const button = element("button", { type: "button", textContent: isFinal(run) ? "Resume" : "Stop" });
  button.onclick = async () => { update(await api(`/api/runs/${run.id}/${isFinal(run) ? "resume" : "stop"}`, { method: "POST" })); follow(run.id); };
  row.append(element("td", {}, button));
  if (!isFinal(run)) { follow(run.id); }
}

let viewed = null;
let samplesShown = new Set();
let samplesAt = -1;
let configState = null;
let lossAt = 0;

function renderView(run) {
  if (run.id !== viewed) { return; }
  $("run-view").hidden = false;
  $("run-id").textContent = run.id;
  $("run-method").textContent = run.method;
  $("run-state").textContent = run.state;
  $("run-state").className = run.state;
  $("run-progress").max = Math.max(run.total_steps, 1);
  $("run-progress").value = run.step;
  $("run-step").textContent = `${run.step}/${run.total_steps}`;
  $("run-loss").textContent = run.loss == null ? "" : run.loss.toFixed(4);
  $("run-its").textContent = run.it_per_second == null ? "" : run.it_per_second.toFixed(2);
  $("run-eta").textContent = eta(run.eta_seconds);
  $("run-error").textContent = run.error ? (run.error_field ? run.error_field + ": " : "") + run.error : "";
  $("run-outputs").replaceChildren(...run.outputs.map(o => element("li", {}, element("a", { href: `/api/runs/${run.id}/files/${o}`, textContent: o }))));
  $("run-messages").textContent = run.messages.join("\n");
  $("run-stop").textContent = isFinal(run) ? "Resume" : "Stop";
  $("run-stop").onclick = async () => { update(await api(`/api/runs/${run.id}/${isFinal(run) ? "resume" : "stop"}`, { method: "POST" })); follow(run.id); };
  const lora = run.state === "completed" && run.outputs.some(o => o.endsWith(".safetensors"));
  $("run-open-generate").disabled = !lora;
  $("run-open-generate").onclick = () => { location.href = "/generate?lora=" + encodeURIComponent("run:" + run.id); };
  if (run.step !== samplesAt || isFinal(run)) {
    samplesAt = run.step;
    loadSamples(run.id);
    loadLoss(run.id, isFinal(run));
  }
  if (run.state !== configState) {
    configState = run.state;
    api(`/api/runs/${run.id}/config`).then(text => { $("run-config").textContent = text; });
  }
}

async function loadSamples(id) {
  const samples = await api(`/api/runs/${id}/samples`);
  for (const sample of samples) {
    if (samplesShown.has(sample.name)) { continue; }
    samplesShown.add(sample.name);
    $("run-samples").append(element("figure", {}, element("img", { src: sample.url, alt: sample.name, className: "run-sample" }), element("figcaption", { textContent: sample.name })));
  }
}

// The loss chart: at most one request a second while the run trains, and one at the end.
async function loadLoss(id, final) {
  if (!final && Date.now() - lossAt < 1000) { return; }
  lossAt = Date.now();
  drawLoss(await api(`/api/runs/${id}/loss`));
}

function drawLoss(points) {
  const svg = $("run-loss-chart");
  const ns = "http://www.w3.org/2000/svg";
  const node = (tag, attributes, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attributes)) { e.setAttribute(k, v); }
    if (text !== undefined) { e.textContent = text; }
    return e;
  };
  if (points.length === 0) { svg.replaceChildren(); return; }
  const [left, top, width, height] = [50, 10, 540, 170];
  const steps = points.map(p => p.step), losses = points.map(p => p.loss);
  const [x0, x1] = [Math.min(...steps), Math.max(...steps)], [y0, y1] = [Math.min(...losses), Math.max(...losses)];
  const x = s => left + (x1 === x0 ? width / 2 : (s - x0) / (x1 - x0) * width);
  const y = l => top + (y1 === y0 ? height / 2 : (y1 - l) / (y1 - y0) * height);
  svg.replaceChildren(
    node("polyline", { points: points.map(p => `${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`).join(" ") }),
    node("text", { x: 2, y: top + 10 }, y1.toPrecision(3)), node("text", { x: 2, y: top + height }, y0.toPrecision(3)),
    node("text", { x: left, y: 198 }, `step ${x0}`), node("text", { x: left + width - 60, y: 198 }, `step ${x1}`));
  svg.dataset.points = String(points.length);
}

function update(run) {
  renderRow(run);
  renderView(run);
}

function follow(id) {
  if (streams.has(id)) { return; }
  const source = new EventSource(`/api/runs/${id}/events`);
  streams.set(id, source);
  const handle = e => update(JSON.parse(e.data));
  source.addEventListener("progress", handle);
  for (const name of ["completed", "stopped", "failed"]) {
    source.addEventListener(name, e => { handle(e); source.close(); streams.delete(id); });
  }
}

async function showRuns(params) {
  viewed = params.get("run");
  if (viewed) {
    $("run-view").hidden = false;
    try {
      const run = await api(`/api/runs/${encodeURIComponent(viewed)}`);
      renderView(run);
      if (!isFinal(run)) { follow(run.id); }
    } catch (e) { $("run-error").textContent = e.message; }
  }
  for (const run of (await api("/api/runs")).reverse()) { update(run); }
}

registerPage("runs", showRuns);
