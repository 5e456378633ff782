/* Progress of a background import of manual monitoring results. Polls the JSON status every second and updates
   the state label, the progress bar and the row count with the server's (translated) texts; when the import stops
   running (checked, rejected, done, failed) the page reloads to show the preview, the errors or the result.
   Without JavaScript the page refreshes itself (<noscript> meta). */
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box || !window.fetch) { return; }
  var state = document.getElementById("import-state");
  var bar = document.getElementById("import-bar");
  var count = document.getElementById("import-count");
  var running = ["queued", "checking", "commit_queued", "writing"];

  function show(s) {
    box.dataset.status = s.status;
    if (s.label && state.textContent !== s.label) { state.textContent = s.label; }
    if (s.rows_total) { bar.max = s.rows_total; }
    if (s.percent !== null && s.percent !== undefined) {
      bar.value = s.rows_done;
      bar.textContent = s.percent + "%";
    } else {
      bar.removeAttribute("value");
      bar.textContent = "";
    }
    count.textContent = s.count_text || "";
  }

  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) { window.setTimeout(poll, 3000); return; }
        if (running.indexOf(s.status) < 0) { window.location.reload(); return; }
        show(s);
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
}());
