// The portal's upload page: creates a stream, then sends the file with
// tus-js-client, which resumes after a dropped connection or a reload.
(function () {
  "use strict";
  var root = document.getElementById("uploader");
  if (!root || !window.tus) return;
  var input = document.getElementById("file");
  var drop = document.getElementById("drop");
  var box = document.getElementById("progress-box");
  var bar = document.getElementById("bar");
  var stats = document.getElementById("stats");
  var message = document.getElementById("message");
  var state = { progressEvents: 0, done: false, streamID: "" };
  window.edgeUpload = state; // for the tests

  function say(text, isError) { message.textContent = text; message.className = isError ? "error" : ""; }
  function human(bytes) {
    var u = ["B", "KB", "MB", "GB"], i = 0;
    while (bytes >= 1000 && i < u.length - 1) { bytes /= 1000; i++; }
    return bytes.toFixed(i ? 1 : 0) + " " + u[i];
  }
  function clock(s) {
    if (!isFinite(s)) return "…";
    s = Math.round(s);
    return s >= 60 ? Math.floor(s / 60) + " min " + (s % 60) + " s" : s + " s";
  }

  function createStream(title) {
    var form = new FormData();
    form.append("csrf", root.dataset.csrf);
    form.append("title", title);
    return fetch("/videos/new", { method: "POST", body: form, credentials: "same-origin" }).then(function (r) {
      if (!r.ok) return r.text().then(function (t) { throw new Error(t || r.statusText); });
      return r.json();
    });
  }

  function start(file) {
    say("");
    box.hidden = false;
    var title = document.getElementById("title").value.trim() || file.name.replace(/\.[^.]+$/, "");
    var started = Date.now(), speed = 0, lastBytes = 0, lastAt = started;
    var chunk = parseInt(root.dataset.chunk, 10);
    var upload = new tus.Upload(file, {
      metadata: { filename: file.name, filetype: file.type || "application/octet-stream" },
      chunkSize: chunk > 0 ? chunk : Infinity,
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
      removeFingerprintOnSuccess: true,
      // tus-js-client's own fingerprint includes the endpoint, which is only
      // known once the stream exists: after a reload the same file would not
      // be recognised. The file alone identifies it.
      fingerprint: function (f) {
        return Promise.resolve(["edge-upload", f.name, f.type, f.size, f.lastModified].join("/"));
      },
      onProgress: function (sent, total) {
        state.progressEvents++;
        var now = Date.now(), dt = (now - lastAt) / 1000;
        if (dt > 0.2) { speed = speed ? 0.7 * speed + 0.3 * (sent - lastBytes) / dt : (sent - lastBytes) / dt; lastBytes = sent; lastAt = now; }
        var pct = total ? Math.floor(sent * 100 / total) : 0;
        bar.value = pct;
        stats.textContent = pct + "% · " + human(sent) + " of " + human(total) +
          (speed ? " · " + human(speed) + "/s · " + clock((total - sent) / speed) + " left" : "");
      },
      onError: function (err) { say("The upload stopped: " + (err && err.message || err) + ". Choose the file again to resume.", true); },
      onSuccess: function () {
        state.done = true;
        bar.value = 100;
        say("Uploaded. Transcoding has started: ");
        var a = document.createElement("a");
        a.href = "/videos/" + state.streamID;
        a.textContent = "follow it on the video's page";
        message.append(a);
      }
    });
    upload.findPreviousUploads().then(function (previous) {
      var same = previous.filter(function (p) { return p.metadata && p.metadata.stream; });
      if (same.length) {
        state.streamID = same[0].metadata.stream;
        upload.options.metadata.stream = state.streamID;
        upload.resumeFromPreviousUpload(same[0]);
        say("Resuming the earlier upload of this file.");
        upload.start();
        return;
      }
      return createStream(title).then(function (s) {
        state.streamID = s.id;
        upload.options.endpoint = s.upload_url;
        upload.options.metadata.stream = s.id;
        upload.start();
      });
    }).catch(function (err) { say("Could not start the upload: " + err.message, true); });
  }

  input.addEventListener("change", function () { if (input.files[0]) start(input.files[0]); });
  ["dragenter", "dragover"].forEach(function (t) {
    drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (t) {
    drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (e) { if (e.dataTransfer.files[0]) start(e.dataTransfer.files[0]); });
})();
