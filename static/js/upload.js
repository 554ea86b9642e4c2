// The portal's upload page: each chosen or dropped file gets a row with
// its own title, progress, speed and time left. Files go one after the
// other: a stream is created (with the row's title as it is then), then
// tus-js-client sends the file, resuming after a dropped connection or a
// reload. A title changed later renames the video.
(function () {
  "use strict";
  var root = document.getElementById("uploader");
  if (!root || !window.tus) return;
  var input = document.getElementById("file");
  var drop = document.getElementById("drop");
  var queue = document.getElementById("queue");
  var rowTemplate = document.getElementById("row");
  var message = document.getElementById("message");
  // For the tests: done once every file is; streamID is the last started.
  var state = { progressEvents: 0, done: false, streamID: "", uploads: [] };
  window.edgeUpload = state;
  var waiting = [], busy = false;

  function say(el, text, isError) { el.textContent = text; el.className = (el.className.replace(/ ?error/, "")) + (isError ? " error" : ""); }
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
  function post(path, fields) {
    var form = new FormData();
    form.append("csrf", root.dataset.csrf);
    for (var k in fields) form.append(k, fields[k]);
    return fetch(path, { method: "POST", body: form, credentials: "same-origin" }).then(function (r) {
      if (!r.ok) return r.text().then(function (t) { throw new Error(r.status === 422 ? "the title was refused" : t || r.statusText); });
      return r;
    });
  }

  function add(file) {
    var li = rowTemplate.content.firstElementChild.cloneNode(true);
    var row = { file: file, li: li, title: li.querySelector(".row-title"), bar: li.querySelector(".row-bar"),
      stats: li.querySelector(".row-stats"), message: li.querySelector(".row-message"), streamID: "", done: false };
    row.title.value = file.name.replace(/\.[^.]+$/, "");
    row.title.addEventListener("change", function () {
      if (!row.streamID) return; // not created yet: it takes the title then
      post("/videos/" + row.streamID + "/rename", { title: row.title.value })
        .then(function () { say(row.message, "Renamed."); })
        .catch(function (err) { say(row.message, "Not renamed: " + err.message + ".", true); });
    });
    queue.append(li);
    state.uploads.push(row);
    state.done = false;
    waiting.push(row);
    next();
  }

  function next() {
    if (busy) return;
    var row = waiting.shift();
    if (!row) {
      finished();
      return;
    }
    busy = true;
    send(row);
  }

  function finished() {
    var rows = state.uploads;
    if (rows.length === 0 || rows.some(function (r) { return !r.done; })) return;
    state.done = true;
    say(message, "");
    var a = document.createElement("a");
    if (rows.length === 1) {
      message.append("Uploaded. Transcoding has started: ");
      a.href = "/videos/" + rows[0].streamID;
      a.textContent = "follow it on the video's page";
    } else {
      message.append(rows.length + " videos uploaded. Transcoding has started: ");
      a.href = "/";
      a.textContent = "follow them on the videos page";
    }
    message.append(a);
  }

  function send(row) {
    var file = row.file;
    var started = Date.now(), speed = 0, lastBytes = 0, lastAt = started;
    var chunk = parseInt(root.dataset.chunk, 10);
    var done = function () { busy = false; next(); };
    row.stats.textContent = "starting";
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
        row.bar.value = pct;
        row.stats.textContent = pct + "% · " + human(sent) + " of " + human(total) +
          (speed ? " · " + human(speed) + "/s · " + clock((total - sent) / speed) + " left" : "");
      },
      onError: function (err) {
        say(row.message, "The upload stopped: " + (err && err.message || err) + ". Choose the file again to resume.", true);
        done();
      },
      onSuccess: function () {
        row.done = true;
        row.bar.value = 100;
        say(row.message, "Uploaded: ");
        var a = document.createElement("a");
        a.href = "/videos/" + row.streamID;
        a.textContent = "its page";
        row.message.append(a);
        done();
      }
    });
    upload.findPreviousUploads().then(function (previous) {
      var same = previous.filter(function (p) { return p.metadata && p.metadata.stream; });
      if (same.length) {
        row.streamID = state.streamID = same[0].metadata.stream;
        upload.options.metadata.stream = row.streamID;
        upload.resumeFromPreviousUpload(same[0]);
        say(row.message, "Resuming the earlier upload of this file.");
        upload.start();
        return;
      }
      return post("/videos/new", { title: row.title.value.trim() || file.name }).then(function (r) { return r.json(); }).then(function (s) {
        row.streamID = state.streamID = s.id;
        upload.options.endpoint = s.upload_url;
        upload.options.metadata.stream = s.id;
        upload.start();
      });
    }).catch(function (err) { say(row.message, "Could not start the upload: " + err.message, true); done(); });
  }

  function addAll(files) { Array.prototype.forEach.call(files, add); }
  function takeChosen() { addAll(input.files); input.value = ""; }
  input.addEventListener("change", takeChosen);
  // The field shows before this script has run (it loads after the page's
  // markup): a file chosen meanwhile fired no change here, so it is taken now.
  if (input.files.length) takeChosen();
  ["dragenter", "dragover"].forEach(function (t) {
    drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (t) {
    drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (e) { addAll(e.dataTransfer.files); });
})();
