package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edgehls/edge/internal/browsertest"
)

// hlsPage is another site's page playing url with hls.js, recording its
// errors and the HTTP status of a failed load.
func hlsPage(hlsJS, url string) string {
	return `<!DOCTYPE html><html><body><video id="direct" muted playsinline></video>
<script src="` + hlsJS + `"></script>
<script>
const v = document.getElementById("direct"), h = new Hls({manifestLoadingMaxRetry: 0});
window.directErrors = []; window.codes = [];
h.on(Hls.Events.ERROR, (_, d) => {
  directErrors.push(d.type + ":" + d.details + (d.fatal ? ":fatal" : ""));
  if (d.response) codes.push(d.response.code);
});
h.on(Hls.Events.MANIFEST_PARSED, () => v.play());
h.loadSource("` + url + `"); h.attachMedia(v);
</script></body></html>`
}

// A signed stream plays in Chromium through /embed/<id>?token= and through
// hls.js on another site with the token in the master URL, and its bare
// master URL is refused to that site.
func TestSignedStreamPlaysInChromium(t *testing.T) {
	e := newEnv(t, nil)
	st := playableStream(t, e, "Course, lesson 1")
	hlsJS := e.srv.URL + hlsURLFrom(t, e, st.ID)
	if r := e.api(t, "PATCH", "/api/v1/streams/"+st.ID, e.token, `{"playback_policy":"signed"}`); r.code != 200 {
		t.Fatalf("make it signed: %d %s", r.code, r.body)
	}
	var tok tokenAnswer
	decode(t, e.api(t, "POST", "/api/v1/streams/"+st.ID+"/tokens", e.token, `{"ttl":600}`).body, &tok)
	course := otherOrigin(t, `<!DOCTYPE html><html><body>
<iframe src="`+e.srv.URL+"/embed/"+st.ID+"?autoplay=1&muted=1&token="+tok.Token+`" width="640" height="360" allow="autoplay"></iframe>
<script>
window.msgs = [];
addEventListener("message", e => { if (e.data && e.data.source === "edge") msgs.push(e.data.type); });
</script>`+strings.TrimPrefix(hlsPage(hlsJS, e.srv.URL+"/streams/"+tok.Token+"/master.m3u8"), "<!DOCTYPE html><html><body>"))
	b := browsertest.New(t)
	if err := chromedp.Do(b, chromedp.Navigate(course.URL)); err != nil {
		t.Fatal(err)
	}
	poll(t, b, "the iframe with a token plays", `msgs.includes("playing")`, 60*time.Second)
	poll(t, b, "hls.js on the course site plays the token's master URL", `document.getElementById("direct").currentTime > 2`, 60*time.Second)
	checkNoFatal(t, eval[[]string](t, b, `directErrors`))
	browsertest.Screenshot(t, b, "signed-stream-playing")

	copied := otherOrigin(t, hlsPage(hlsJS, e.srv.URL+"/streams/"+st.ID+"/master.m3u8"))
	if err := chromedp.Do(b, chromedp.Navigate(copied.URL)); err != nil {
		t.Fatal(err)
	}
	poll(t, b, "the bare master URL is refused", `directErrors.some(e => e.endsWith(":fatal"))`, 30*time.Second)
	if codes := eval[[]int](t, b, `codes`); len(codes) == 0 || codes[0] != http.StatusForbidden {
		t.Fatalf("refusal codes seen by hls.js: %v (errors %v)", codes, eval[[]string](t, b, `directErrors`))
	}
}

// A stream limited to one site plays in raw hls.js there and is refused to
// a raw hls.js page on another site: the list guards the media, not only
// the iframe.
func TestAllowedSitesRefuseAnotherSitesPlayer(t *testing.T) {
	e := newEnv(t, nil)
	st := playableStream(t, e, "Staff only")
	hlsJS := e.srv.URL + hlsURLFrom(t, e, st.ID)
	master := e.srv.URL + "/streams/" + st.ID + "/master.m3u8"
	allowed := otherOrigin(t, hlsPage(hlsJS, master))
	other := otherOrigin(t, hlsPage(hlsJS, master))
	if r := e.api(t, "PATCH", "/api/v1/streams/"+st.ID, e.token, `{"allowed_domains":["`+allowed.URL+`"]}`); r.code != 200 {
		t.Fatalf("allow one site: %d %s", r.code, r.body)
	}
	b := browsertest.New(t)
	if err := chromedp.Do(b, chromedp.Navigate(allowed.URL)); err != nil {
		t.Fatal(err)
	}
	poll(t, b, "the allowed site's hls.js plays", `document.getElementById("direct").currentTime > 2`, 60*time.Second)
	checkNoFatal(t, eval[[]string](t, b, `directErrors`))
	if err := chromedp.Do(b, chromedp.Navigate(other.URL)); err != nil {
		t.Fatal(err)
	}
	poll(t, b, "another site's hls.js is refused", `directErrors.some(e => e.endsWith(":fatal"))`, 30*time.Second)
	if eval[float64](t, b, `document.getElementById("direct").currentTime`) != 0 {
		t.Fatal("another site played the stream")
	}
}
