// The portal's small script; pages work without it. It keeps the status of
// videos that are still uploading, queued or processing up to date, and
// when one settles swaps in the parts of the page marked data-swap from a
// fresh copy (duration, renditions, poster, the preview player); it makes
// Copy buttons copy, and the poster form follow the preview player.
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

  // swapFresh replaces each [data-swap] part with the same part of the
  // page as the server renders it now.
  function swapFresh() {
    fetch(location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-swap]").forEach(function (el) {
          var next = fresh.querySelector('[data-swap="' + el.dataset.swap + '"]');
          if (next) el.replaceWith(document.importNode(next, true));
        });
        followPreview();
      })
      .catch(function () {});
  }
  document.addEventListener("edge:settled", swapFresh);

  function copy(button) {
    var el = document.getElementById(button.dataset.copy);
    var text = "value" in el ? el.value : el.textContent;
    var done = function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy"; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { select(el); });
    } else if (select(el) && document.execCommand("copy")) {
      done();
    }
  }
  function select(el) {
    if (el.select) { el.select(); return true; }
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    return true;
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("button.copy");
    if (b) copy(b);
  });

  // followPreview keeps the poster form's time at the preview's playhead
  // (the player is on this origin, so its video element is reachable).
  function followPreview() {
    var frame = document.getElementById("preview");
    var input = document.getElementById("poster-time");
    if (!frame || !input) return;
    var hook = function () {
      var p = frame.contentWindow && frame.contentWindow.edgePlayer;
      if (!p) return;
      var set = function () { input.value = p.video.currentTime.toFixed(1); };
      p.video.addEventListener("timeupdate", set);
      p.video.addEventListener("seeked", set);
    };
    frame.addEventListener("load", hook);
    hook();
  }
  followPreview();

  setTimeout(tick, POLL_MS);
})();
