"""The site's one script: search over the prebuilt index, in the browser, offline.

Shipped with voceunica (not read from the repository, whose templates are
untrusted): it reads `window.VU_INDEX` (assets/search-index.js, loaded by a
<script> tag because browsers refuse fetch() on file:// pages), matches every
word of the query, accents and case aside, and lists the pages found, each
marked with its language.  Without it the search page lists every page.
"""

SEARCH_JS = """\
(function () {
  "use strict";
  var form = document.getElementById("vu-search"), index = window.VU_INDEX;
  if (!form || !index) return;
  var input = form.querySelector("input"), out = document.getElementById("vu-results"),
      all = document.getElementById("vu-all"), said = document.getElementById("vu-said"),
      base = form.getAttribute("data-base"), lang = document.documentElement.lang;
  function norm(s) { return s.normalize("NFD").replace(/[\\u0300-\\u036f]/g, "").toLowerCase(); }
  index.forEach(function (e) { e.n = norm(e.t + " " + e.x); });
  function run() {
    var words = norm(input.value).split(/\\s+/).filter(Boolean);
    out.textContent = "";
    all.hidden = words.length > 0;
    if (!words.length) { said.textContent = ""; return; }
    var hits = index.filter(function (e) {
      return words.every(function (w) { return e.n.indexOf(w) >= 0; });
    });
    hits.sort(function (a, b) { return (a.l !== lang) - (b.l !== lang); });
    hits.forEach(function (e) {
      var li = document.createElement("li"), a = document.createElement("a");
      li.lang = e.l;
      a.href = base + e.u;
      a.textContent = e.t;
      li.appendChild(a);
      li.appendChild(document.createTextNode(" (" + e.k + ", " + e.l.toUpperCase() + ")"));
      out.appendChild(li);
    });
    said.textContent = hits.length ? form.getAttribute("data-found").replace("{n}", hits.length)
                                   : form.getAttribute("data-none");
  }
  input.addEventListener("input", run);
  form.addEventListener("submit", function (ev) { ev.preventDefault(); run(); });
  var q = /[?&]q=([^&]*)/.exec(location.search);
  if (q) { input.value = decodeURIComponent(q[1].replace(/\\+/g, " ")); run(); }
})();
"""
