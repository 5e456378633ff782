/* Progress of a background import of manual monitoring results. Polls the JSON status every second and updates
   the progress bar and the row count; when the state changes (checked, rejected, done, failed) the page reloads
   to show the preview, the errors or the result. Without JavaScript the page refreshes itself (<noscript> meta). */
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box || !window.fetch) { return; }
  var bar = document.getElementById("import-bar");
  var count = document.getElementById("import-count");
  var initial = box.dataset.status;
  var running = ["queued", "checking", "commit_queued", "writing"];

  function show(s) {
    if (s.rows_total) { bar.max = s.rows_total; }
    if (s.percent !== null && s.percent !== undefined) { bar.value = s.rows_done; }
    else { bar.removeAttribute("value"); }
    if (s.status === "checking") { count.textContent = s.rows_done.toLocaleString() + " ✓"; }
    else if (s.status === "writing" && s.rows_total) {
      count.textContent = s.rows_done.toLocaleString() + " / " + s.rows_total.toLocaleString();
    }
  }

  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) { return; }
        if (s.status !== initial && running.indexOf(s.status) < 0) { window.location.reload(); return; }
        if (s.status !== initial) { initial = s.status; box.dataset.status = s.status; }
        show(s);
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
}());
