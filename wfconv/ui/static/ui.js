// wfconv ui: while a run is in progress (or a migration is being verified)
// the page's <main> is fetched again every two seconds and swapped in place.
(function () {
  "use strict";
  function live() { return document.body.dataset.live === "1"; }
  function refresh() {
    if (!live()) { return; }
    fetch(window.location.href, { headers: { "X-Requested-With": "wfconv-refresh" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("main");
        if (fresh) { document.querySelector("main").replaceWith(fresh); }
        document.body.dataset.live = doc.body.dataset.live || "0";
      })
      .catch(function () { /* the server stopped: keep the last page */ })
      .finally(function () { if (live()) { window.setTimeout(refresh, 2000); } });
  }
  if (live()) { window.setTimeout(refresh, 2000); }
})();
