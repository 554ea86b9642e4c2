package web_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/hlstest"
	"github.com/edgehls/edge/playback"
)

// thumbnail.jpg?time=&width= is made once, then served (and cached) as an
// object of the stream; a signed stream's needs a token, and nothing is
// made for a request without one.
func TestThumbnails(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	st := playableStream(t, e, "Talk")
	get := func(path string) (int, http.Header, []byte) {
		t.Helper()
		resp, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, resp.Header, []byte(b.String())
	}
	thumbs := func() int {
		list, _ := e.store.List(ctx, "streams/"+st.ID+"/thumbnails/")
		return len(list)
	}

	code, h, body := get("/streams/" + st.ID + "/thumbnail.jpg?time=3&width=320")
	if code != 200 || h.Get("Content-Type") != "image/jpeg" || !strings.Contains(h.Get("Cache-Control"), "immutable") {
		t.Fatalf("thumbnail: %d %v", code, h)
	}
	file := filepath.Join(t.TempDir(), "thumb.jpg")
	os.WriteFile(file, body, 0o644)
	var probe struct{ Streams []struct{ Width, Height int } }
	hlstest.FFprobe(t, &probe, "-show_entries", "stream=width,height", file)
	if len(probe.Streams) != 1 || probe.Streams[0].Width != 320 || probe.Streams[0].Height != 180 {
		t.Fatalf("thumbnail picture %+v", probe.Streams)
	}
	// Asked again (time and width rounded to the same), it is the same
	// object; once it has settled (the proxy keeps nothing written in the
	// last 2 s: the file is aged here rather than waited for), the proxy's
	// cache keeps it and answers from there.
	made := filepath.Join(e.store.(interface{ Dir() string }).Dir(), "streams", st.ID, "thumbnails", "3000-320.jpg")
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(made, old, old); err != nil {
		t.Fatal(err)
	}
	var status string
	for range 3 {
		code, h, again := get("/streams/" + st.ID + "/thumbnail.jpg?time=3.04&width=321")
		if code != 200 || string(again) != string(body) {
			t.Fatalf("the same thumbnail again: %d, %d bytes", code, len(again))
		}
		status = h.Get("Cache-Status")
	}
	if !strings.HasPrefix(status, "edge; hit") {
		t.Fatalf("not cached by the proxy: %s", status)
	}
	var wg sync.WaitGroup
	codes := make([]int, 12)
	for i := range codes {
		wg.Go(func() { codes[i], _, _ = get("/streams/" + st.ID + "/thumbnail.jpg?time=5&width=160") })
	}
	wg.Wait()
	for _, c := range codes {
		if c != 200 && c != 503 {
			t.Fatalf("concurrent thumbnails: %v", codes)
		}
	}
	if n := thumbs(); n != 2 {
		t.Fatalf("%d thumbnails made, want 2: one each for the two moments", n)
	}
	for _, tc := range []struct{ query, want string }{
		{"time=99", "time: seconds into the video, from 0 to 8.0"}, {"time=-1", "time: "}, {"time=abc", "time: "},
		{"width=8", "width: pixels, from 32 to 640"}, {"width=big", "width: "},
	} {
		if code, _, body := get("/streams/" + st.ID + "/thumbnail.jpg?" + tc.query); code != 400 || !strings.HasPrefix(string(body), tc.want) {
			t.Errorf("%s: %d %s", tc.query, code, body)
		}
	}
	if code, _, _ := get("/streams/nosuchstream1/thumbnail.jpg"); code != 404 {
		t.Fatalf("unknown stream: %d", code)
	}

	signed := e.streamWithPackage(t, db.PlaybackSigned)
	hlstest.MakeLadder(t, filepath.Join(e.store.(interface{ Dir() string }).Dir(), "streams", signed), 4)
	if code, _, body := get("/streams/" + signed + "/thumbnail.jpg?time=1"); code != 403 || !strings.Contains(string(body), "needs a signed link") {
		t.Fatalf("signed, no token: %d %s", code, body)
	}
	if n, _ := e.store.List(ctx, "streams/"+signed+"/thumbnails/"); len(n) != 0 {
		t.Fatal("a thumbnail was made for a refused request")
	}
	var tok tokenAnswer
	decode(t, e.api(t, "POST", "/api/v1/streams/"+signed+"/tokens", e.token, `{"kind":"`+playback.KindPoster+`"}`).body, &tok)
	if code, h, _ := get("/streams/" + tok.Token + "/thumbnail.jpg?time=1&width=200"); code != 200 || !strings.HasPrefix(h.Get("Cache-Control"), "private") {
		t.Fatalf("signed, with a poster token: %d %v", code, h)
	}
}
