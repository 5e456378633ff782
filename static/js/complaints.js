/* Complaint intake: suggest registered enterprises while the reporter types a name
   (GET /complaints/enterprises.json?q=&lat=&lon=: name, address, distance from the given point).
   Without JavaScript the name, credit code and address fields work as plain text. */
(function () {
  "use strict";
  /* Contact fields are shown only for a named report (all fields stay visible without JavaScript). */
  var named = document.querySelector(".named-fields");
  var choices = document.querySelectorAll("input[name=identity]");
  function toggleNamed() {
    var checked = document.querySelector("input[name=identity]:checked");
    if (named) { named.hidden = !checked || checked.value !== "named"; }
  }
  Array.prototype.forEach.call(choices, function (r) { r.addEventListener("change", toggleNamed); });
  if (named && choices.length) { toggleNamed(); }
}());

(function () {
  "use strict";
  var box = document.getElementById("enterprise-picker");
  if (!box || !window.fetch) { return; }
  var input = document.getElementById("reported_name");
  var uscc = document.getElementById("enterprise_uscc");
  var region = document.getElementById("region_code");
  var list = document.getElementById("enterprise-suggestions");
  var timer = null;
  var last = "";

  function clear() {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
  }

  function choose(item) {
    input.value = item.name;
    uscc.value = item.uscc;
    if (region && item.region && item.region.code) { region.value = item.region.code; }
    clear();
    input.focus();
  }

  function show(items) {
    clear();
    if (!items.length) {
      var empty = document.createElement("li");
      empty.className = "muted";
      empty.setAttribute("role", "option");
      empty.setAttribute("aria-disabled", "true");
      empty.textContent = box.getAttribute("data-empty");
      list.appendChild(empty);
    }
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.setAttribute("role", "none");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link-button";
      button.setAttribute("role", "option");
      var parts = [item.name, item.address || (item.region ? item.region.name : "")];
      if (item.distance_m !== null && item.distance_m !== undefined) {
        parts.push(item.distance_m < 1000 ? item.distance_m + " m" : (item.distance_m / 1000).toFixed(1) + " km");
      }
      parts.push(item.uscc);
      button.textContent = parts.join(" · ");
      button.addEventListener("click", function () { choose(item); });
      li.appendChild(button);
      list.appendChild(li);
    });
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function search() {
    var q = input.value.trim();
    if (q.length < 2 || q === last) { return; }
    last = q;
    var url = box.getAttribute("data-api") + "?q=" + encodeURIComponent(q);
    var lat = document.getElementById("latitude");
    var lon = document.getElementById("longitude");
    if (lat && lon && lat.value.trim() && lon.value.trim()) {
      url += "&lat=" + encodeURIComponent(lat.value.trim()) + "&lon=" + encodeURIComponent(lon.value.trim());
    }
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { data: [] }; })
      .then(function (body) { if (input.value.trim() === q) { show(body.data || []); } })
      .catch(clear);
  }

  input.setAttribute("autocomplete", "off");
  input.setAttribute("role", "combobox");  // aria-expanded is only allowed on a combobox
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", "enterprise-suggestions");
  input.setAttribute("aria-expanded", "false");
  input.addEventListener("input", function () {
    uscc.value = "";
    window.clearTimeout(timer);
    timer = window.setTimeout(search, 250);
  });
  input.addEventListener("keydown", function (e) { if (e.key === "Escape") { clear(); } });
}());
