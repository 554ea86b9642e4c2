//go:build linux

package proxy_test

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/edgehls/edge/internal/logtest"
	"github.com/edgehls/edge/internal/waitfor"
	"github.com/edgehls/edge/proxy"
)

// TestVolumeFilledByOthers: when something else fills the cache's volume
// while a segment fills, its viewer still gets it whole (the rest from the
// origin, as no room can be made: the tier holds nothing to evict), and
// once the volume has room again the tier's bound grows back, so segments
// are kept again instead of coming from the origin until a restart.
func TestVolumeFilledByOthers(t *testing.T) {
	dir := smallVolume(t, "2m")
	objects := segments("a", 2, 300_000)
	clock := &clock{t: time.Now()} // the origin's objects settled an hour ago
	var logs logtest.Buffer
	srv := startEdge(t, proxy.Config{Origin: fileOrigin(t, objects), CacheDir: dir, DiskBytes: 100 << 20, Now: clock.Now,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	// Another writer leaves 150 kB: the segment's head and first bytes go
	// out, then its fill meets the full volume.
	filler := filepath.Join(dir, "someone-else")
	if err := os.WriteFile(filler, make([]byte, available(t, dir)-150_000), 0o644); err != nil {
		t.Fatal(err)
	}
	key := "streams/a/segment-0.ts"
	if r := get(t, srv.URL+"/"+key); r.code != 200 || r.body != objects[key] || r.header.Get("Cache-Status") != "edge; fwd=miss; stored" {
		t.Fatalf("the viewer of the fill that met the full volume: %d, %d bytes, %q", r.code, len(r.body), r.header.Get("Cache-Status"))
	}
	if !strings.Contains(logs.String(), "its volume is full; bound lowered") || metric(t, srv, "edge_origin_resumes_total") != 1 {
		t.Fatalf("the full volume went unnoticed, or the rest was not asked of the origin:\n%s", logs.String())
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute) // past the tier's next look at its volume
	key = "streams/a/segment-1.ts"
	for _, want := range []string{"edge; fwd=miss; stored", "edge; hit"} {
		if r := get(t, srv.URL+"/"+key); r.code != 200 || r.body != objects[key] || r.header.Get("Cache-Status") != want {
			t.Fatalf("after the volume freed: %d, %d bytes, %q; want %q\n%s", r.code, len(r.body), r.header.Get("Cache-Status"), want, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "its volume has room again; bound raised") {
		t.Fatalf("the bound's regrowth is not logged:\n%s", logs.String())
	}
}

// available is the space left on dir's volume.
func available(t *testing.T, dir string) int {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int(st.Bavail) * int(st.Bsize)
}

// TestRangedViewerOfAFillTheDiskRefused: a viewer asking for a range of a
// segment while it fills waits for the whole; when the disk tier cannot
// take it, that viewer is answered from the origin (206), not with an
// origin error, and the viewer streaming the fill gets the rest from it.
func TestRangedViewerOfAFillTheDiskRefused(t *testing.T) {
	dir := smallVolume(t, "2m")
	body := strings.Repeat("0123456789", 30_000)
	o := startMidBodyOrigin(t, body, midBody{pause: 100_000, later: `"v1"`})
	srv := startEdge(t, proxy.Config{Origin: httpOrigin(t, o.srv.URL), CacheDir: dir, DiskBytes: 100 << 20})
	if err := os.WriteFile(filepath.Join(dir, "someone-else"), make([]byte, available(t, dir)-150_000), 0o644); err != nil {
		t.Fatal(err)
	}
	url := srv.URL + "/streams/s/segment-0.ts"
	streaming, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer streaming.Body.Close()
	<-o.paused
	ranged := make(chan response, 1)
	go func() { ranged <- do(t, "GET", url, map[string]string{"Range": "bytes=0-99"}) }()
	waitfor.True(t, "the ranged viewer to join the fill", func() bool { return metric(t, srv, "edge_cache_coalesced_total") == 1 })
	o.release() // the rest meets the full volume
	if got, err := io.ReadAll(streaming.Body); err != nil || string(got) != body {
		t.Fatalf("the viewer streaming the fill: %d bytes, %v", len(got), err)
	}
	if r := <-ranged; r.code != http.StatusPartialContent || r.body != body[:100] || r.header.Get("Content-Range") != "bytes 0-99/300000" {
		t.Fatalf("the ranged viewer: %d %q %q", r.code, r.header.Get("Content-Range"), r.body)
	}
}
