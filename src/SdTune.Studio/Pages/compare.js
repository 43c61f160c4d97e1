// Compare: method benchmarks (table, chart, grids) and X/Y grids of finished runs, both queued jobs polled every second.
"use strict";
const percent = x => (100 * x).toFixed(0) + "%";
let benchViewed = null;
const shown = {};

/** True when the list differs from what was last shown under key (so a poll redraws only what changed). */
function changed(key, value) {
  const text = JSON.stringify(value);
  if (shown[key] === text) { return false; }
  shown[key] = text;
  return true;
}

function compareError(target, e) { $(target).textContent = (e instanceof ApiError && e.field ? e.field + ": " : "") + e.message; }

function checkboxes(fieldset, items) {
  fieldset.querySelectorAll("label").forEach(l => l.remove());
  fieldset.append(...items.map(i => element("label", { className: "check" }, element("input", { type: "checkbox", value: i.value, checked: i.checked }), " " + i.label)));
}

const checked = fieldset => [...fieldset.querySelectorAll("input:checked")].map(i => i.value);

async function startBenchmark(event) {
  event.preventDefault();
  $("compare-bench-error").textContent = "";
  try {
    const job = await api("/api/benchmarks", { method: "POST", body: JSON.stringify({
      methods: checked($("compare-bench-methods")), steps: Number($("compare-bench-steps").value), seeds: Number($("compare-bench-seeds").value) }) });
    benchViewed = job.id;
    await refreshBenchmarks();
  } catch (e) { compareError("compare-bench-error", e); }
}

function benchmarkRow(job) {
  const link = element("a", { href: "#", textContent: job.id });
  link.onclick = e => { e.preventDefault(); benchViewed = job.id; showBenchmark(job); };
  const state = element("td", { className: job.state, textContent: job.state + (job.error ? ": " + job.error : "") });
  return element("tr", { id: "bench-" + job.id }, element("td", {}, link), element("td", { textContent: job.methods.join(", ") }),
    element("td", { textContent: job.steps }), element("td", { textContent: job.seeds }), state,
    element("td", { textContent: job.messages.length ? job.messages[job.messages.length - 1] : "" }));
}

function showBenchmark(job) {
  $("compare-bench-view").hidden = false;
  $("compare-bench-id").textContent = `${job.id} · ${job.state}`;
  const head = ["method", "subject fidelity", "shape + colours", "pattern", "background / size / position", "prior preservation", "class fidelity", "train s", "output MB"];
  const cell = (m, s, pick) => percent(pick(m)) + (s && pick(s) > 0 ? " ± " + percent(pick(s)) : "");
  $("compare-bench-table").replaceChildren(element("thead", {}, element("tr", {}, ...head.map(h => element("th", { textContent: h })))),
    element("tbody", {}, ...job.rows.map(r => element("tr", {}, ...[r.method, cell(r.mean, r.spread, x => x.subject_fidelity),
      cell(r.mean, r.spread, x => x.subject_shape_and_colors), cell(r.mean, r.spread, x => x.subject_pattern),
      [r.mean.prompt_background, r.mean.prompt_size, r.mean.prompt_position].map(percent).join(" / "),
      cell(r.mean, r.spread, x => x.prior_preservation), cell(r.mean, r.spread, x => x.class_fidelity),
      r.mean.train_seconds.toFixed(1), (r.mean.output_bytes / 1e6).toFixed(2)].map(t => element("td", { textContent: t }))))));
  $("compare-bench-chart").hidden = !job.chart_url;
  if (job.chart_url) { $("compare-bench-chart").src = job.chart_url; }
  $("compare-bench-grids").replaceChildren(...job.rows.map(r => element("figure", {},
    element("img", { src: r.grid_url, alt: r.method }), element("figcaption", { textContent: r.method }))));
  if (!job.rows.length) { $("compare-bench-grids").append(element("pre", { textContent: job.messages.join("\n") })); }
}

async function refreshBenchmarks() {
  const jobs = await api("/api/benchmarks");
  if (!changed("benchmarks:" + benchViewed, jobs)) { return; }
  $("compare-benchmarks").replaceChildren(...jobs.map(benchmarkRow));
  if (benchViewed === null && jobs.length) { benchViewed = jobs[0].id; }
  const viewed = jobs.find(j => j.id === benchViewed);
  if (viewed) { showBenchmark(viewed); }
}

async function startGrid(event) {
  event.preventDefault();
  $("compare-grid-error").textContent = "";
  const request = {
    runs: checked($("compare-grid-runs")),
    prompts: $("compare-grid-prompts").value.split("\n").map(p => p.trim()).filter(p => p),
    include_base: $("compare-grid-base").checked,
    sampler: $("compare-grid-sampler").value,
    steps: Number($("compare-grid-steps").value),
    seed: Number($("compare-grid-seed").value),
  };
  const weights = $("compare-grid-weights").value.split(",").map(w => w.trim()).filter(w => w);
  if (weights.length) { request.weights = weights.map(Number); }
  try {
    await api("/api/grids", { method: "POST", body: JSON.stringify(request) });
    await refreshGrids();
  } catch (e) { compareError("compare-grid-error", e); }
}

function gridFigure(job) {
  const text = `${job.id} · ${job.state}` + (job.state === "running" ? ` · picture ${job.cell}/${job.cells}` : "") + (job.error ? ": " + job.error : "");
  const caption = element("figcaption", { className: job.state, textContent: text + "\n" + job.prompts.join(" | ") });
  const picture = job.image_url ? element("a", { href: job.image_url, target: "_blank" }, element("img", { src: job.image_url, alt: "grid " + job.id, className: "grid" })) : "";
  return element("figure", { id: "grid-" + job.id }, picture, caption);
}

async function refreshGrids() {
  const jobs = await api("/api/grids");
  if (!changed("grids", jobs)) { return; }
  $("compare-grids").replaceChildren(...jobs.map(gridFigure));
}

async function poll() {
  try { await refreshBenchmarks(); await refreshGrids(); } catch (e) { $("compare-grid-error").textContent = e.message; }
  setTimeout(poll, 1000);
}

async function showCompare() {
  const methods = await api("/api/benchmarks/methods");
  checkboxes($("compare-bench-methods"), methods.map(m => ({ value: m.name, label: `${m.name} (${m.description})`, checked: true })));
  const runs = (await api("/api/runs")).filter(r => r.state === "completed" && r.outputs.some(o => o.endsWith(".safetensors")));
  checkboxes($("compare-grid-runs"), runs.map(r => ({ value: r.id, label: `${r.method} ${r.id}`, checked: false })));
  fill($("compare-grid-sampler"), await api("/api/samplers"));
  $("compare-grid-sampler").value = "Euler a";
  $("compare-bench-form").onsubmit = startBenchmark;
  $("compare-grid-form").onsubmit = startGrid;
  await poll();
}

registerPage("compare", showCompare);
