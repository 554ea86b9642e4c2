//go:build linux

package proxy_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/edgehls/edge/internal/logtest"
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
