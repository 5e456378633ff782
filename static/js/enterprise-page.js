/* Public enterprise page: a link to an anchor inside a folded section (#ledger-12, #monitoring-h, …) opens the
   <details> around it, on load and on later hash changes. Without JavaScript the sections open by a click. */
(function () {
  "use strict";
  function reveal() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (!target) { return; }
    for (var el = target; el; el = el.parentElement) {
      if (el.tagName === "DETAILS") { el.open = true; }
    }
    target.scrollIntoView();
  }
  window.addEventListener("hashchange", reveal);
  reveal();
}());
