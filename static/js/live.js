// Keeps the status of videos that are still uploading, queued or processing
// up to date without a reload. Pages work without it.
(function () {
  "use strict";
  var POLL_MS = 3000;
  var pending = { uploading: true, queued: true, processing: true };

  function draw(el, st) {
    el.dataset.status = st.status;
    var badge = document.createElement("span");
    badge.className = "badge " + st.status;
    badge.textContent = st.status;
    el.replaceChildren(badge);
    if (st.status === "processing") {
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.value = st.progress;
      var pct = document.createElement("span");
      pct.className = "muted";
      pct.textContent = " " + st.progress + "%";
      el.append(" ", bar, pct);
    }
    if (st.status === "ready" || st.status === "failed") {
      el.dispatchEvent(new CustomEvent("edge:settled", { bubbles: true, detail: st }));
    }
  }

  function tick() {
    var els = Array.prototype.filter.call(document.querySelectorAll("[data-live]"), function (el) {
      return pending[el.dataset.status];
    });
    if (els.length === 0) return;
    var ids = Array.from(new Set(els.map(function (el) { return el.dataset.live; }))).slice(0, 100);
    fetch("/videos/status?ids=" + encodeURIComponent(ids.join(",")), {
      credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data) els.forEach(function (el) { var st = data[el.dataset.live]; if (st) draw(el, st); });
      })
      .catch(function () {})
      .finally(function () { setTimeout(tick, POLL_MS); });
  }

  setTimeout(tick, POLL_MS);
})();
