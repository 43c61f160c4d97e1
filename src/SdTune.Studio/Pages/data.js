// Data: a dataset folder as training reads it (subsets and repeats, captions, sizes, buckets, unreadable images),
// with each caption editable in place.
"use strict";
const dataFields = ["resolution", "caption_extension", "enable_bucket", "min_bucket_reso", "max_bucket_reso", "bucket_reso_steps", "bucket_no_upscale"];
const datasetPath = path => path.split("/").map(encodeURIComponent).join("/");

function dataQuery() {
  const query = new URLSearchParams();
  for (const field of dataFields) {
    const value = $("data-form").elements[field].value.trim();
    if (value !== "") { query.set(field, value); }
  }
  return query;
}

function renderSummary(summary) {
  const lines = [
    `${summary.images} images, ${summary.images_with_repeats} images × repeats per epoch`,
    `${summary.missing_captions} without a caption file, ${summary.unreadable} unreadable`,
  ];
  $("data-summary").replaceChildren(
    ...lines.map(text => element("p", { textContent: text })),
    ...(summary.training_error ? [element("p", { className: "error", textContent: "Training refuses this folder: " + summary.training_error })] : []),
    ...(summary.warnings.length ? [element("ul", { className: "warnings" }, ...summary.warnings.map(w => element("li", { textContent: w })))] : []));
  $("data-buckets").replaceChildren(...summary.buckets.map(b =>
    element("tr", {}, element("td", { textContent: b.bucket }), element("td", { textContent: b.images }), element("td", { textContent: b.images_with_repeats }))));
}

function imageCard(name, image) {
  const caption = element("textarea", { className: "caption", rows: 3, value: image.caption ?? "", placeholder: image.training_caption ? `no caption file: uses "${image.training_caption}"` : "no caption file" });
  const status = element("span", { className: "status" });
  const save = element("button", { type: "button", className: "save-caption", textContent: "Save", disabled: image.caption_file === null });
  save.onclick = async () => {
    status.className = "status";
    status.textContent = "saving…";
    try {
      const saved = await api(`/api/datasets/${encodeURIComponent(name)}/captions/${datasetPath(image.path)}`,
        { method: "PUT", body: JSON.stringify({ caption: caption.value, caption_extension: $("data-caption-extension").value.trim() || undefined }) });
      status.textContent = `saved to ${saved.caption_file}`;
      card.classList.remove("missing-caption");
    } catch (e) {
      status.className = "status error";
      status.textContent = (e.field ? e.field + ": " : "") + e.message;
    }
  };
  const facts = [image.path, `${image.repeats} repeats`, image.readable ? `${image.width}×${image.height} → ${image.bucket ?? "no bucket"}` : "unreadable"];
  const card = element("figure", { id: "data-image-" + image.index, className: "data-image" },
    ...(image.readable ? [element("img", { src: image.url, alt: image.path, loading: "lazy" })] : []),
    element("figcaption", { textContent: facts.join(" · ") }),
    ...(image.error ? [element("p", { className: "error", textContent: image.error })] : []),
    ...(image.caption_error ? [element("p", { className: "error", textContent: image.caption_error })] : []),
    caption, element("div", { className: "row" }, save, status));
  card.classList.toggle("unreadable", !image.readable);
  card.classList.toggle("missing-caption", image.caption === null);
  return card;
}

async function loadData() {
  const name = $("data-dataset").value;
  $("data-error").textContent = "";
  if (!name) { return; }
  history.replaceState(null, "", "/data?" + new URLSearchParams({ dataset: name, ...Object.fromEntries(dataQuery()) }));
  try {
    const listing = await api(`/api/datasets/${encodeURIComponent(name)}/images?${dataQuery()}`);
    renderSummary(listing.summary);
    $("data-images").replaceChildren(...listing.images.map(image => imageCard(name, image)));
  } catch (e) {
    $("data-error").textContent = (e.field ? e.field + ": " : "") + e.message;
  }
}

async function showData(params) {
  fill($("data-dataset"), await api("/api/datasets"), "(choose a dataset)");
  for (const field of ["dataset", ...dataFields]) {
    const input = field === "dataset" ? $("data-dataset") : $("data-form").elements[field];
    if (params.has(field)) { input.value = params.get(field); }
  }
  $("data-form").onsubmit = e => { e.preventDefault(); loadData(); };
  $("data-dataset").onchange = loadData;
  $("data-enable-bucket").onchange = loadData;
  await loadData();
}

registerPage("data", showData);
