// Opens the page the document names (data-page): drops the access token from the address bar (the cookie carries it
// now), marks the page in the navigation and runs the page's entry point.
"use strict";
(async () => {
  const params = new URLSearchParams(location.search);
  if (params.has("token")) {
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : ""));
  }
  const page = document.body.dataset.page;
  $("nav-" + page).classList.add("current");
  document.title = "SdTune Studio · " + $("nav-" + page).textContent;
  await pages.get(page)(params);
})();
