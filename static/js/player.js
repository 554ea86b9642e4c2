// edge's embeddable player: hls.js where Media Source Extensions exist,
// native HLS (Safari, iOS) otherwise. Settings come from data-* attributes
// on #edge-player, so the page needs no inline script. It tells the
// embedding page what happens through postMessage ({source: "edge", type}).
(function () {
  "use strict";
  var root = document.getElementById("edge-player");
  var video = document.getElementById("video");
  var overlay = document.getElementById("overlay");
  var menu = root.querySelector("select.quality");
  var captionsMenu = root.querySelector("select.captions");
  var d = root.dataset;
  var start = parseFloat(d.start) || 0;
  var autoplay = d.autoplay === "true";

  function post(type, detail) {
    if (window.parent === window) return;
    var msg = { source: "edge", type: type, stream: d.stream };
    for (var k in detail || {}) msg[k] = detail[k];
    window.parent.postMessage(msg, "*");
  }
  function show(text) { overlay.textContent = text; overlay.hidden = false; }
  function hide() { overlay.hidden = true; }
  function fail(text) { show(text); post("error", { message: text }); }
  function play() {
    var p = video.play();
    if (p && p.catch) p.catch(function () { /* autoplay refused: the controls stay */ });
  }

  video.controls = d.controls !== "false";
  video.muted = d.muted === "true";
  video.loop = d.loop === "true";
  video.addEventListener("playing", function () { hide(); post("playing"); });
  video.addEventListener("ended", function () { post("ended"); });

  var player = { video: video, hls: null, errors: [] };
  window.edgePlayer = player; // for embedders' scripts and the tests

  function buildMenu(hls) {
    if (!menu || hls.levels.length < 2) return;
    var auto = document.createElement("option");
    auto.value = "-1";
    auto.textContent = "Auto";
    menu.append(auto);
    hls.levels
      .map(function (l, i) { return { i: i, h: l.height, b: l.bitrate }; })
      .sort(function (a, b) { return b.h - a.h || b.b - a.b; })
      .forEach(function (l) {
        var o = document.createElement("option");
        o.value = String(l.i);
        o.textContent = l.h ? l.h + "p" : Math.round(l.b / 1000) + " kb/s";
        menu.append(o);
      });
    menu.value = "-1";
    menu.hidden = false;
    menu.addEventListener("change", function () { hls.currentLevel = parseInt(menu.value, 10); });
  }

  // matchLanguage finds the track of a language asked for (captions=en
  // finds en-GB too), or -1.
  function matchLanguage(tracks, want) {
    if (!want) return -1;
    want = want.toLowerCase();
    for (var pass = 0; pass < 2; pass++) {
      for (var i = 0; i < tracks.length; i++) {
        var lang = (tracks[i].lang || tracks[i].language || "").toLowerCase();
        if (pass === 0 ? lang === want : lang.split("-")[0] === want.split("-")[0]) return i;
      }
    }
    return -1;
  }

  // buildCaptions fills the captions menu (Off + each language), turns on
  // the one captions= names and returns it; choose(i) shows track i (-1:
  // none).
  function buildCaptions(tracks, choose) {
    if (!captionsMenu || tracks.length === 0) return -1;
    var off = document.createElement("option");
    off.value = "-1";
    off.textContent = "Captions off";
    captionsMenu.append(off);
    tracks.forEach(function (t, i) {
      var o = document.createElement("option");
      o.value = String(i);
      o.textContent = t.name || t.label || t.lang || t.language;
      captionsMenu.append(o);
    });
    var first = matchLanguage(tracks, d.captions);
    captionsMenu.value = String(first);
    choose(first);
    captionsMenu.hidden = false;
    captionsMenu.addEventListener("change", function () { choose(parseInt(captionsMenu.value, 10)); });
    return first;
  }

  function withHls() {
    var hls = new Hls({ startPosition: start > 0 ? start : -1 });
    player.hls = hls;
    var networkRetries = 0, mediaRecoveries = 0;
    hls.on(Hls.Events.MANIFEST_PARSED, function () {
      buildMenu(hls);
      post("ready", { levels: hls.levels.length });
      if (autoplay) play();
    });
    // The captions= choice is applied once the first level has loaded:
    // hls.js picks the subtitle track again as it switches to a level, and
    // would undo one made before.
    hls.once(Hls.Events.SUBTITLE_TRACKS_UPDATED, function () {
      var first = buildCaptions(hls.subtitleTracks, function (i) {
        hls.subtitleTrack = i;
        hls.subtitleDisplay = i >= 0;
      });
      if (first >= 0) hls.once(Hls.Events.LEVEL_LOADED, function () { hls.subtitleTrack = first; });
    });
    hls.on(Hls.Events.FRAG_LOADED, function () {
      if (networkRetries > 0) { networkRetries = 0; hide(); }
    });
    hls.on(Hls.Events.ERROR, function (_, e) {
      player.errors.push(e.type + ":" + e.details + (e.fatal ? ":fatal" : ""));
      if (!e.fatal) return;
      if (e.type === Hls.ErrorTypes.NETWORK_ERROR && networkRetries < 6) {
        networkRetries++;
        show("Network problem: retrying…");
        setTimeout(function () { hls.startLoad(); }, 1000 * networkRetries);
        return;
      }
      if (e.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries < 2) {
        mediaRecoveries++;
        if (mediaRecoveries === 2) hls.swapAudioCodec();
        hls.recoverMediaError();
        return;
      }
      hls.destroy();
      fail(e.type === Hls.ErrorTypes.NETWORK_ERROR ? "The video could not be loaded. Check your connection and reload." : "This video cannot be played here.");
    });
    hls.loadSource(d.src);
    hls.attachMedia(video);
  }

  function native() {
    video.src = d.src;
    video.addEventListener("loadedmetadata", function () {
      if (start > 0) video.currentTime = start;
      var tracks = Array.prototype.filter.call(video.textTracks, function (t) {
        return t.kind === "subtitles" || t.kind === "captions";
      });
      buildCaptions(tracks, function (i) {
        tracks.forEach(function (t, j) { t.mode = j === i ? "showing" : "disabled"; });
      });
      post("ready", { levels: 0 });
      if (autoplay) play();
    });
    video.addEventListener("error", function () { fail("The video could not be loaded. Check your connection and reload."); });
  }

  // The storyboard (storyboard.vtt beside the master: cues naming a sheet
  // and a #xywh= box) gives the bar over the seek bar its previews.
  function parseStoryboard(text) {
    var cues = [];
    var re = /(\d+):(\d+):(\d+)\.(\d+) --> (\d+):(\d+):(\d+)\.(\d+)\s+(\S+)#xywh=(\d+),(\d+),(\d+),(\d+)/g;
    var secs = function (m, i) { return +m[i] * 3600 + +m[i + 1] * 60 + +m[i + 2] + +m[i + 3] / 1000; };
    for (var m; (m = re.exec(text));) {
      cues.push({ from: secs(m, 1), to: secs(m, 5), src: m[9], x: +m[10], y: +m[11], w: +m[12], h: +m[13] });
    }
    return cues;
  }
  function storyboard() {
    var bar = root.querySelector(".scrub");
    if (!bar || !video.controls) return;
    var base = d.src.replace(/[^/]*$/, "");
    fetch(base + "storyboard.vtt", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (text) {
        var cues = parseStoryboard(text);
        if (cues.length === 0) return;
        player.storyboard = cues;
        var preview = bar.querySelector(".scrub-preview"), thumb = bar.querySelector(".scrub-thumb"), label = bar.querySelector(".scrub-time");
        var at = function (e) {
          var box = bar.getBoundingClientRect();
          var f = Math.min(Math.max((e.clientX - box.left) / box.width, 0), 1);
          return { t: f * (video.duration || cues[cues.length - 1].to), x: f * box.width, width: box.width };
        };
        bar.addEventListener("pointermove", function (e) {
          var p = at(e), cue = cues[cues.length - 1];
          for (var i = 0; i < cues.length; i++) if (p.t < cues[i].to) { cue = cues[i]; break; }
          thumb.style.width = cue.w + "px";
          thumb.style.height = cue.h + "px";
          thumb.style.backgroundImage = 'url("' + base + cue.src + '")';
          thumb.style.backgroundPosition = -cue.x + "px " + -cue.y + "px";
          label.textContent = Math.floor(p.t / 60) + ":" + ("0" + Math.floor(p.t % 60)).slice(-2);
          preview.style.left = Math.min(Math.max(p.x - cue.w / 2 - 2, 0), p.width - cue.w - 4) + "px";
          preview.hidden = false;
          bar.classList.add("active");
          player.preview = { src: cue.src, x: cue.x, y: cue.y, time: p.t };
        });
        bar.addEventListener("pointerleave", function () { preview.hidden = true; bar.classList.remove("active"); });
        bar.addEventListener("click", function (e) { video.currentTime = at(e).t; });
        bar.hidden = false;
      })
      .catch(function () {});
  }
  storyboard();

  if (window.Hls && Hls.isSupported()) withHls();
  else if (video.canPlayType("application/vnd.apple.mpegurl")) native();
  else fail("This browser cannot play HLS video.");
})();
