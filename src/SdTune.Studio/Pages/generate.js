// Generate: queued generations (/api/generations, as /api/generate takes them) with the model, LoRA, embedding, hypernetwork, ControlNet and sampler pickers, img2img and the
// batch grid; PNG info of a dropped image.
"use strict";
function intOrNull(id) { const text = $(id).value.trim(); if (text === "") { return null; } const n = Number(text); return Number.isFinite(n) ? n : text; }

/** A chosen file as a data: URL (what the API reads as base64), or null. */
function fileData(id) {
  const file = $(id).files[0];
  if (!file) { return Promise.resolve(null); }
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function generateRequest() {
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
  if ($("gen-hypernetwork").value) { request.hypernetworks = [{ name: $("gen-hypernetwork").value, strength: intOrNull("gen-hypernetwork-strength") ?? 1 }]; }
  if ($("gen-grid").checked) { request.grid = true; }
  const init = await fileData("gen-init-image");
  if (init) { request.init_image = init; request.strength = intOrNull("gen-strength") ?? 0.75; }
  if ($("gen-control-model").value) {
    request.controls = [{
      type: $("gen-control-type").value, model: $("gen-control-model").value, image: await fileData("gen-control-image"),
      preprocessor: $("gen-control-preprocessor").value || "none",
      scale: intOrNull("gen-control-scale") ?? 1, start: intOrNull("gen-control-start") ?? 0, end: intOrNull("gen-control-end") ?? 1,
    }];
    if (!request.controls[0].image) { delete request.controls[0].image; }
  }
  return request;
}

// A generation is a queued job (POST /api/generations), so a worker pool shares the studio's work; the page polls it.
async function generate(event) {
  event.preventDefault();
  clearErrors($("gen-form"));
  $("gen-submit").disabled = true;
  $("gen-status").textContent = "Queued…";
  try {
    let job = await api("/api/generations", { method: "POST", body: JSON.stringify(await generateRequest()) });
    while (!["completed", "failed"].includes(job.state)) {
      await new Promise(resolve => setTimeout(resolve, 300));
      job = await api(`/api/generations/${job.id}`);
      $("gen-status").textContent = job.state === "running" ? "Generating…" : "Queued…";
    }
    if (job.state === "failed") { throw new ApiError(job.error, job.error_field); }
    $("gen-status").textContent = `${job.images.length} image(s) in ${job.seconds.toFixed(1)} s` + (job.warnings.length ? "; " + job.warnings.join("; ") : "");
    const figure = (image, className) => element("figure", { className },
      element("a", { href: image.url, target: "_blank" }, element("img", { src: image.url, alt: image.name })),
      element("figcaption", { textContent: image.infotext }));
    $("gen-results").prepend(...job.images.map(image => figure(image, "gen-image")));
    if (job.grid) { $("gen-results").prepend(figure(job.grid, "gen-grid")); }
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
  const names = entries => entries.map(e => e.name);
  fill($("gen-embedding"), names(await api("/api/embeddings")), "none");
  fill($("gen-hypernetwork"), names(await api("/api/hypernetworks")), "none");
  fill($("gen-control-model"), names(await api("/api/controls")), "none");
  fill($("gen-control-preprocessor"), await api("/api/preprocessors"), "none");
  $("gen-embedding-insert").onclick = () => {
    const name = $("gen-embedding").value;
    if (name) { $("gen-prompt").value = ($("gen-prompt").value.trim() + " " + name).trim(); }
  };
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

registerPage("generate", showGenerate);
