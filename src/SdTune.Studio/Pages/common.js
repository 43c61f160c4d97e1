// What every page uses: the API client (errors carry the field they name), element helpers and the page registry.
// A page is Pages/<name>.html (its section) and Pages/<name>.js, which calls registerPage; StudioPages lists them.
"use strict";
const $ = id => document.getElementById(id);
const pages = new Map();

/** Registers a page's entry point: show(params) runs when the studio opens on the page's path. */
function registerPage(name, show) { pages.set(name, show); }

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

/** Clears the error messages under scope. */
function clearErrors(scope) {
  for (const e of scope.querySelectorAll(".error")) { e.textContent = ""; }
}

/** Shows an API error next to the field it names (element prefix + field), or in the general element. */
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

const isFinal = run => ["completed", "stopped", "failed"].includes(run.state);
