package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edgehls/edge/internal/browsertest"
)

const englishSRT = "1\n00:00:00,500 --> 00:00:07,500\nHello, and welcome.\n"
const frenchVTT = "WEBVTT\n\n00:00:00.500 --> 00:00:07.500\nBonjour et bienvenue.\n"

// putCaptions sends captions as a script would: a multipart PUT.
func (e *env) putCaptions(t *testing.T, id, lang, label, file string) apiResponse {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if label != "" {
		w.WriteField("label", label)
	}
	fw, _ := w.CreateFormFile("file", "talk.srt")
	fw.Write([]byte(file))
	w.Close()
	req, _ := http.NewRequest("PUT", e.srv.URL+"/api/v1/streams/"+id+"/captions/"+lang, &body)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(resp.Body)
	return apiResponse{resp.StatusCode, resp.Header, out.String()}
}

// The done-when of captions: a team adds a talk's subtitles through the
// API, and a viewer's player (hls.js in Chromium) lists them, shows the one
// captions= names, and switches language from its menu.
func TestCaptionsPlayInChromium(t *testing.T) {
	e := newEnv(t, nil)
	st := playableStream(t, e, "Talk")
	if r := e.putCaptions(t, st.ID, "en", "", englishSRT); r.code != http.StatusOK || !strings.Contains(r.body, `"label":"English"`) {
		t.Fatalf("put en: %d %s", r.code, r.body)
	}
	if r := e.putCaptions(t, st.ID, "fr", "", frenchVTT); r.code != http.StatusOK {
		t.Fatalf("put fr: %d %s", r.code, r.body)
	}
	if r := e.putCaptions(t, st.ID, "xx-not a tag", "", englishSRT); r.code != http.StatusNotFound && r.code != http.StatusUnprocessableEntity {
		t.Fatalf("bad language: %d %s", r.code, r.body)
	}
	if r := e.putCaptions(t, st.ID, "de", "", "not captions at all"); r.code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "file: ") {
		t.Fatalf("bad file: %d %s", r.code, r.body)
	}
	if r := e.api(t, "GET", "/api/v1/streams/"+st.ID+"/captions", e.token, ""); !strings.Contains(r.body, `"language":"en"`) || !strings.Contains(r.body, `"language":"fr"`) {
		t.Fatalf("list: %d %s", r.code, r.body)
	}

	b := browsertest.New(t)
	if err := chromedp.Do(b, chromedp.Navigate(e.srv.URL+"/embed/"+st.ID+"?autoplay=1&muted=1&captions=en")); err != nil {
		t.Fatal(err)
	}
	poll(t, b, "hls.js lists both languages", `!!(window.edgePlayer && edgePlayer.hls && edgePlayer.hls.subtitleTracks.length === 2)`, 60*time.Second)
	showing := `Array.from(edgePlayer.video.textTracks).filter(t => t.mode === 'showing' && t.activeCues && t.activeCues.length)
		.map(t => Array.from(t.activeCues).map(c => c.text).join(' ')).join('|')`
	poll(t, b, "the English caption shows", showing+` === 'Hello, and welcome.'`, 60*time.Second)
	menu := eval[string](t, b, `Array.from(document.querySelectorAll('select.captions option')).map(o => o.textContent).join(',')`)
	if menu != "Captions off,English,français" {
		t.Fatalf("captions menu: %q", menu)
	}
	browsertest.Screenshot(t, b, "player-captions")
	eval[bool](t, b, `(() => { const m = document.querySelector('select.captions'); m.value = '1'; m.dispatchEvent(new Event('change')); edgePlayer.video.currentTime = 1; return true; })()`)
	poll(t, b, "the French caption shows instead", showing+` === 'Bonjour et bienvenue.'`, 30*time.Second)
	checkNoFatal(t, eval[[]string](t, b, `edgePlayer.errors`))

	if r := e.api(t, "DELETE", "/api/v1/streams/"+st.ID+"/captions/fr", e.token, ""); r.code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.code, r.body)
	}
}

// The video page lists captions, adds them from a file and refuses a bad
// one with the reason by its form.
func TestCaptionsOnTheVideoPage(t *testing.T) {
	e := newEnv(t, nil)
	st := playableStream(t, e, "Talk")
	b := e.browser(t)
	csrf := b.signIn("ed@example.com", "correct horse")
	post := func(lang, file string) page {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		w.WriteField("csrf", csrf)
		w.WriteField("language", lang)
		fw, _ := w.CreateFormFile("file", "talk.srt")
		fw.Write([]byte(file))
		w.Close()
		req, _ := http.NewRequest("POST", e.srv.URL+"/videos/"+st.ID+"/captions", &body)
		req.Header.Set("Content-Type", w.FormDataContentType())
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out bytes.Buffer
		out.ReadFrom(resp.Body)
		return page{resp.StatusCode, resp.Header, out.String()}
	}
	if r := post("en", "garbage"); r.code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "file: no captions found") {
		t.Fatalf("bad file: %d\n%s", r.code, r.body)
	}
	if r := post("en", englishSRT); r.code != http.StatusSeeOther {
		t.Fatalf("add: %d %s", r.code, r.body)
	}
	detail := b.get("/videos/" + st.ID)
	if !strings.Contains(detail.body, "<code>en</code>") || !strings.Contains(detail.body, "Captions added: English") {
		t.Fatalf("page:\n%s", detail.body)
	}
	if r := b.post("/videos/"+st.ID+"/captions/en/remove", url.Values{"csrf": {csrf}}, nil); r.code != http.StatusSeeOther {
		t.Fatalf("remove: %d", r.code)
	}
	if strings.Contains(b.get("/videos/"+st.ID).body, "<code>en</code>") {
		t.Fatal("removed captions still listed")
	}
}

// A signed video's captions need its token, as its segments do.
func TestCaptionsFollowThePlaybackPolicy(t *testing.T) {
	e := newEnv(t, nil)
	st := playableStream(t, e, "Private talk")
	r := e.putCaptions(t, st.ID, "en", "", englishSRT)
	if r.code != http.StatusOK {
		t.Fatalf("put: %d %s", r.code, r.body)
	}
	var caption struct{ URL string }
	decode(t, r.body, &caption)
	dir := strings.TrimSuffix(strings.TrimPrefix(caption.URL, "https://edge.example/streams/"+st.ID+"/"), "stream.m3u8")
	if r := e.api(t, "PATCH", "/api/v1/streams/"+st.ID, e.token, `{"playback_policy":"signed"}`); r.code != http.StatusOK {
		t.Fatalf("sign: %d %s", r.code, r.body)
	}
	for _, file := range []string{dir + "stream.m3u8", dir + "segment-0.vtt"} {
		if code, body := e.fetch(t, "/streams/"+st.ID+"/"+file); code != http.StatusForbidden || !strings.Contains(body, "needs a signed link") {
			t.Fatalf("%s without a token: %d %s", file, code, body)
		}
	}
	var tok tokenAnswer
	decode(t, e.api(t, "POST", "/api/v1/streams/"+st.ID+"/tokens", e.token, `{"kind":"video"}`).body, &tok)
	for _, file := range []string{dir + "stream.m3u8", dir + "segment-0.vtt"} {
		if code, body := e.fetch(t, "/streams/"+tok.Token+"/"+file); code != http.StatusOK || !strings.Contains(body, "EXT") && !strings.Contains(body, "Hello") {
			t.Fatalf("%s with the token: %d %s", file, code, body)
		}
	}
}
