(function () {
  "use strict";
  var form = document.getElementById("filters");
  var shown = document.getElementById("shown");
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-chain]"));
  var parts = Array.prototype.slice.call(document.querySelectorAll("svg [data-chains]"));
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.cluster"));
  function has(list, value) {
    return list.split(" ").indexOf(value) >= 0;
  }
  function apply() {
    var want = {};
    ["cluster", "ns", "owner", "rule", "sev"].forEach(function (f) { want[f] = form.elements[f].value; });
    var q = form.elements.q.value.trim().toLowerCase();
    var on = {};
    var count = 0;
    rows.forEach(function (tr) {
      var d = tr.dataset;
      var ok = (want.cluster === "" || d.cluster === want.cluster) &&
        (want.ns === "" || d.ns === want.ns) &&
        (want.owner === "" || d.owner === want.owner) &&
        (want.rule === "" || has(d.rules, want.rule)) &&
        (want.sev === "" || has(d.sevs, want.sev)) &&
        (q === "" || d.text.indexOf(q) >= 0);
      tr.hidden = !ok;
      if (ok) { on[d.chain] = true; count += 1; }
    });
    parts.forEach(function (el) {
      var hit = el.dataset.chains.split(" ").some(function (c) { return on[c]; });
      el.classList.toggle("dim", !hit);
    });
    sections.forEach(function (s) {
      s.hidden = want.cluster !== "" && s.dataset.cluster !== want.cluster;
    });
    shown.textContent = count + " of " + rows.length + " claims shown";
  }
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  apply();
})();
