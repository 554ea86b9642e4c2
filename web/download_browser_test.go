package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edgehls/edge/internal/browsertest"
	"github.com/edgehls/edge/internal/waitfor"
)

// A team switches a video's MP4 download on through the API; once made,
// its download_url plays in Chromium, from the start while it loads.
func TestDownloadPlaysInChromium(t *testing.T) {
	e := newEnv(t, nil)
	st, _ := transcodedStream(t, e, "Talk", 6)
	if r := e.api(t, "PATCH", "/api/v1/streams/"+st.ID, e.token, `{"downloads":true}`); r.code != http.StatusOK || !strings.Contains(r.body, `"downloads":true`) {
		t.Fatalf("switch on: %d %s", r.code, r.body)
	}
	var got struct {
		DownloadURL string `json:"download_url"`
	}
	waitfor.True(t, "the download_url", func() bool {
		decode(t, e.api(t, "GET", "/api/v1/streams/"+st.ID, e.token, "").body, &got)
		return got.DownloadURL != ""
	})
	if got.DownloadURL != "https://edge.example/streams/"+st.ID+"/download.mp4" {
		t.Fatalf("download_url %q", got.DownloadURL)
	}
	b := browsertest.New(t)
	if err := chromedp.Do(b, chromedp.Navigate(e.srv.URL+"/streams/"+st.ID+"/download.mp4")); err != nil {
		t.Fatal(err)
	}
	poll(t, b, "the MP4 plays", `(() => { const v = document.querySelector('video'); if (!v) return false; v.muted = true; v.play(); return v.currentTime > 1.5; })()`, 60*time.Second)
	if size := eval[[]int](t, b, `(() => { const v = document.querySelector('video'); return [v.videoWidth, v.videoHeight]; })()`); size[0] != 1280 || size[1] != 720 {
		t.Fatalf("picture %v", size)
	}
	browsertest.Screenshot(t, b, "download-plays")
	if r := e.api(t, "PATCH", "/api/v1/streams/"+st.ID, e.token, `{"downloads":false}`); r.code != http.StatusOK || !strings.Contains(r.body, `"download_url":""`) {
		t.Fatalf("switch off: %d %s", r.code, r.body)
	}
	if code, _ := e.fetch(t, "/streams/"+st.ID+"/download.mp4"); code != http.StatusNotFound {
		t.Fatalf("the download after switching off: %d", code)
	}
}
