// The studio's pages: Runs (the list, and one run's live view over Server-Sent Events), Train (a form built from the
// methods' own key declarations, /api/methods) and Generate (/api/generate, PNG info of a dropped image).
"use strict";
const streams = new Map();
const $ = id => document.getElementById(id);

class ApiError extends Error {
  constructor(message, field) { super(message); this.field = field; }
}

async function api(path, options) {
  const response = await fetch(path, { credentials: "same-origin", headers: { "Content-Type": "application/json" }, ...options });
  const type = response.headers.get("Content-Type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    throw body && body.error ? new ApiError(body.error, body.field) : new ApiError(`${response.status} ${response.statusText}`, null);
  }
  return body;
}

function element(tag, properties, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, properties || {});
  e.append(...children);
  return e;
}

function fill(select, values, blank) {
  const options = values.map(v => typeof v === "string" ? { value: v, label: v } : v);
  if (blank !== undefined) { options.unshift({ value: "", label: blank }); }
  select.replaceChildren(...options.map(o => element("option", { value: o.value, textContent: o.label })));
}

function eta(seconds) {
  if (seconds == null) { return ""; }
  const s = Math.round(seconds);
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

const isFinal = run => ["completed", "stopped", "failed"].includes(run.state);

// ---- Runs ----

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
  $("run-outputs").replaceChildren(...run.outputs.map(o => element("li", { textContent: o })));
  $("run-messages").textContent = run.messages.join("\n");
  $("run-stop").textContent = isFinal(run) ? "Resume" : "Stop";
  $("run-stop").onclick = async () => { update(await api(`/api/runs/${run.id}/${isFinal(run) ? "resume" : "stop"}`, { method: "POST" })); follow(run.id); };
  const lora = run.state === "completed" && run.outputs.some(o => o.endsWith(".safetensors"));
  $("run-open-generate").disabled = !lora;
  $("run-open-generate").onclick = () => { location.href = "/generate?lora=" + encodeURIComponent("run:" + run.id); };
  if (run.step !== samplesAt || isFinal(run)) {
    samplesAt = run.step;
    loadSamples(run.id);
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

// ---- Train ----

let catalog = null;

function keyInput(key) {
  const id = "key-" + key.name;
  let input;
  if (key.type === "flag") {
    input = element("select", { id, name: key.name });
    fill(input, ["true", "false"], `default (${key.default == null ? "unset" : key.default})`);
  } else if (key.type === "precision") {
    input = element("select", { id, name: key.name });
    fill(input, ["no", "fp16", "bf16"], `default (${key.default})`);
  } else {
    const numeric = ["integer", "long", "real"].includes(key.type);
    input = element("input", { id, name: key.name, type: numeric ? "number" : "text", placeholder: key.default == null ? "" : String(Array.isArray(key.default) ? key.default.join(", ") : key.default) });
    if (numeric) { input.step = key.type === "real" ? "any" : "1"; }
  }
  input.dataset.type = key.type;
  const help = [key.help, key.range ? "Range: " + key.range.text + "." : "", key.default == null ? "" : "Default: " + (Array.isArray(key.default) ? key.default.join(", ") : key.default) + "."].filter(x => x).join(" ");
  return element("div", { className: "key" },
    element("label", { htmlFor: id, textContent: key.name }), input,
    element("small", { textContent: help }),
    element("span", { id: "error-" + key.name, className: "error" }));
}

function buildTrainForm() {
  const method = catalog.methods.find(m => m.name === $("train-method").value);
  $("train-method-summary").textContent = method ? method.summary : "";
  const own = method ? method.keys : [];
  const ownNames = new Set(own.map(k => k.name));
  const studioSets = new Set(["method", "pretrained_model", "train_data_dir", "output_dir", "resume"]);
  const common = catalog.common_keys.filter(k => !ownNames.has(k.name) && !studioSets.has(k.name));
  $("train-keys").replaceChildren(
    element("h3", { textContent: `${method ? method.name : ""} keys` }),
    element("div", { className: "keys", id: "train-method-keys" }, ...own.map(keyInput)),
    element("h3", { textContent: "Training keys" }),
    element("div", { className: "keys", id: "train-common-keys" }, ...common.map(keyInput)));
}

function trainKeys() {
  const keys = {};
  for (const input of $("train-keys").querySelectorAll("[data-type]")) {
    const text = input.value.trim();
    if (text === "") { continue; }
    const type = input.dataset.type;
    let value = text;
    if (type === "flag") { value = text === "true"; }
    else if (["integer", "long", "real"].includes(type)) { const n = Number(text); value = Number.isFinite(n) ? n : text; }
    else if (type === "text_list") { value = text.split(",").map(s => s.trim()).filter(s => s); }
    keys[input.name] = value;
  }
  return keys;
}

function trainRequest() {
  const request = { method: $("train-method").value, base_model: $("train-base-model").value, dataset: $("train-dataset").value, keys: trainKeys() };
  const samples = $("train-sample-prompts").value.trim();
  if (samples) { request.sample_prompt_lines = samples; }
  return request;
}

function clearErrors(scope) {
  for (const e of scope.querySelectorAll(".error")) { e.textContent = ""; }
}

function showError(error, prefix, general) {
  const target = error.field ? $(prefix + error.field) : null;
  if (target) {
    target.textContent = error.message;
    const input = $("key-" + error.field);
    if (input) { input.focus(); }
  } else {
    $(general).textContent = (error.field ? error.field + ": " : "") + error.message;
  }
}

async function saveToml() {
  clearErrors($("page-train"));
  try {
    const toml = await api("/api/config/toml", { method: "POST", body: JSON.stringify(trainRequest()) });
    $("train-toml").textContent = toml;
    $("train-toml-download").href = URL.createObjectURL(new Blob([toml], { type: "application/toml" }));
    $("train-toml-box").hidden = false;
  } catch (e) { showError(e, "error-", "train-error"); }
}

async function startRun(event) {
  event.preventDefault();
  clearErrors($("page-train"));
  try {
    const run = await api("/api/runs", { method: "POST", body: JSON.stringify(trainRequest()) });
    location.href = "/?run=" + encodeURIComponent(run.id);
  } catch (e) { showError(e, "error-", "train-error"); }
}

async function showTrain() {
  catalog = await api("/api/methods");
  fill($("train-method"), catalog.methods.map(m => m.name));
  fill($("train-base-model"), await api("/api/models"));
  fill($("train-dataset"), await api("/api/datasets"));
  $("train-method").onchange = buildTrainForm;
  $("train-save-toml").onclick = saveToml;
  $("train-form").onsubmit = startRun;
  buildTrainForm();
}

// ---- Generate ----

function intOrNull(id) { const text = $(id).value.trim(); if (text === "") { return null; } const n = Number(text); return Number.isFinite(n) ? n : text; }

function generateRequest() {
  const request = {
    prompt: $("gen-prompt").value,
    negative_prompt: $("gen-negative-prompt").value,
    model: $("gen-model").value,
    sampler: $("gen-sampler").value,
    steps: intOrNull("gen-steps"),
    cfg: intOrNull("gen-cfg"),
    seed: intOrNull("gen-seed"),
    width: intOrNull("gen-width"),
    height: intOrNull("gen-height"),
    batch_size: intOrNull("gen-batch-size"),
  };
  for (const key of Object.keys(request)) { if (request[key] === null) { delete request[key]; } }
  if ($("gen-lora").value) { request.loras = [{ name: $("gen-lora").value, weight: intOrNull("gen-lora-weight") ?? 1 }]; }
  return request;
}

async function generate(event) {
  event.preventDefault();
  clearErrors($("gen-form"));
  $("gen-submit").disabled = true;
  $("gen-status").textContent = "Generating…";
  try {
    const result = await api("/api/generate", { method: "POST", body: JSON.stringify(generateRequest()) });
    $("gen-status").textContent = `${result.images.length} image(s) in ${result.seconds.toFixed(1)} s` + (result.warnings.length ? "; " + result.warnings.join("; ") : "");
    $("gen-results").prepend(...result.images.map(image => element("figure", { className: "gen-image" },
      element("a", { href: image.url, target: "_blank" }, element("img", { src: image.url, alt: image.name })),
      element("figcaption", { textContent: image.infotext }))));
  } catch (e) {
    $("gen-status").textContent = "";
    showError(e, "gen-error-", "gen-error");
  } finally { $("gen-submit").disabled = false; }
}

let lastInfo = null;

async function pngInfo(file) {
  $("pnginfo-error").textContent = "";
  $("pnginfo-result").replaceChildren();
  $("pnginfo-use").hidden = true;
  try {
    const info = await api("/api/pnginfo", { method: "POST", body: file, headers: { "Content-Type": "image/png" } });
    lastInfo = info;
    if (info.parameters == null) { $("pnginfo-error").textContent = "This PNG has no generation parameters."; return; }
    $("pnginfo-result").replaceChildren(...info.fields.flatMap(f => [element("dt", { textContent: f.key }), element("dd", { textContent: f.value })]));
    $("pnginfo-use").hidden = false;
  } catch (e) { $("pnginfo-error").textContent = e.message; }
}

function useInfo() {
  const fields = Object.fromEntries(lastInfo.fields.map(f => [f.key, f.value]));
  const set = (id, value) => { if (value !== undefined) { $(id).value = value; } };
  set("gen-prompt", fields["Prompt"]);
  set("gen-negative-prompt", fields["Negative prompt"] ?? "");
  set("gen-steps", fields["Steps"]);
  set("gen-cfg", fields["CFG scale"]);
  set("gen-seed", fields["Seed"]);
  set("gen-width", fields["Size-1"]);
  set("gen-height", fields["Size-2"]);
  if (fields["Sampler"] && [...$("gen-sampler").options].some(o => o.value === fields["Sampler"])) { $("gen-sampler").value = fields["Sampler"]; }
}

async function showGenerate(params) {
  fill($("gen-model"), await api("/api/models"));
  fill($("gen-sampler"), await api("/api/samplers"));
  $("gen-sampler").value = "Euler a";
  const loras = await api("/api/loras");
  fill($("gen-lora"), loras.map(l => ({ value: l.name, label: l.method ? `${l.name} (${l.method})` : l.name })), "none");
  const wanted = params.get("lora");
  if (wanted && loras.some(l => l.name === wanted)) { $("gen-lora").value = wanted; }
  $("gen-form").onsubmit = generate;
  $("pnginfo-file").onchange = () => { if ($("pnginfo-file").files.length) { pngInfo($("pnginfo-file").files[0]); } };
  const drop = $("pnginfo-drop");
  drop.ondragover = e => { e.preventDefault(); drop.classList.add("over"); };
  drop.ondragleave = () => drop.classList.remove("over");
  drop.ondrop = e => { e.preventDefault(); drop.classList.remove("over"); if (e.dataTransfer.files.length) { pngInfo(e.dataTransfer.files[0]); } };
  $("pnginfo-use").onclick = useInfo;
}

// ---- Start ----

(async () => {
  const params = new URLSearchParams(location.search);
  if (params.has("token")) {
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : ""));
  }
  const page = { "/train": "train", "/generate": "generate" }[location.pathname] || "runs";
  $("page-" + page).hidden = false;
  $("nav-" + page).classList.add("current");
  document.title = "SdTune Studio · " + page[0].toUpperCase() + page.slice(1);
  if (page === "train") { await showTrain(); }
  else if (page === "generate") { await showGenerate(params); }
  else { await showRuns(params); }
})();
