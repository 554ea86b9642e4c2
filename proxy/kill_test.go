package proxy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/edgehls/edge/internal/proxytest"
	"github.com/edgehls/edge/internal/waitfor"
	"github.com/edgehls/edge/proxy"
	"github.com/edgehls/edge/storage"
)

// TestKill9MidWriteServesNoPartialObject: an edge killed with -9 while a
// segment is half written to its disk tier leaves nothing the next edge
// serves: it re-indexes, drops the half-written file and fetches the
// segment whole.
func TestKill9MidWriteServesNoPartialObject(t *testing.T) {
	if dir := os.Getenv("EDGE_TEST_KILL_CACHE_DIR"); dir != "" {
		runEdgeUntilKilled(t, dir, os.Getenv("EDGE_TEST_KILL_ORIGIN"))
		return
	}
	body := strings.Repeat("z", 400_000)
	g := startGatedOrigin(t, body)
	dir := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^TestKill9MidWriteServesNoPartialObject$")
	child.Env = append(os.Environ(), "EDGE_TEST_KILL_CACHE_DIR="+dir, "EDGE_TEST_KILL_ORIGIN="+g.srv.URL)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	<-g.halfSent
	waitfor.True(t, "half the segment in the cache's temporary file", func() bool {
		files, _ := filepath.Glob(filepath.Join(dir, "tmp", "fill-*"))
		for _, f := range files {
			if info, err := os.Stat(f); err == nil && info.Size() >= int64(len(body)/2) {
				return true
			}
		}
		return false
	})
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()

	close(g.release)
	srv := startEdge(t, proxy.Config{Origin: httpOrigin(t, g.srv.URL), CacheDir: dir})
	r := get(t, srv.URL+"/streams/s/segment-0.ts")
	if r.body != body || r.header.Get("Cache-Status") != "edge; fwd=miss; stored" {
		t.Fatalf("after kill -9: %d of %d bytes, %q", len(r.body), len(body), r.header.Get("Cache-Status"))
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "tmp", "fill-*")); len(left) != 0 {
		t.Fatalf("half-written files left: %v", left)
	}
}

// httpOrigin reads a test's HTTP origin server, which serves one object
// whatever the key; it has published no playback document.
func httpOrigin(t *testing.T, url string) storage.Store {
	store, err := storage.NewHTTPStore(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return noDocument{store}
}

// runEdgeUntilKilled is the edge that gets killed: it asks itself for the
// segment and reads until the parent kills it.
func runEdgeUntilKilled(t *testing.T, dir, origin string) {
	p := proxytest.New(t, proxy.Config{Origin: httpOrigin(t, origin), CacheDir: dir})
	srv := httptest.NewServer(p)
	resp, err := http.Get(srv.URL + "/streams/s/segment-0.ts")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	select {} // the parent kills this process
}
