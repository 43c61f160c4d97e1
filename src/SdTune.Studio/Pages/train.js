// Train: a form built from the methods' own key declarations (/api/methods); saves the TOML the CLI reads or starts a run.
"use strict";
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

registerPage("train", showTrain);
