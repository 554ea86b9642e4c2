package main

import (
	"github.com/edgehls/edge/internal/waitfor"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/playback"

	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// startServe runs serve in-process on a loopback port until the test ends.
func startServe(t *testing.T, vars map[string]string) (base string, stop func() error) {
	t.Helper()
	if vars["EDGE_DATA_DIR"] == "" {
		vars["EDGE_DATA_DIR"] = t.TempDir()
	}
	cfg, err := parseConfig(nil, env(vars), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if vars["EDGE_PUBLIC_URL"] == "" { // as a deployment sets it: where edge really is
		cfg.PublicURL = "http://" + ln.Addr().String()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ln) }()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { stop() })
	return "http://" + ln.Addr().String(), stop
}

func TestServeDefaultsServeTheMediaFolder(t *testing.T) {
	dataDir := t.TempDir()
	stream := filepath.Join(dataDir, "media/streams/lecture")
	os.MkdirAll(stream, 0o755)
	os.WriteFile(filepath.Join(stream, "master.m3u8"), []byte("#EXTM3U\n"), 0o644)
	base, _ := startServe(t, map[string]string{"EDGE_DATA_DIR": dataDir})

	resp, err := http.Head(base + "/streams/lecture/master.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != 200 || h.Get("Content-Type") != "application/vnd.apple.mpegurl" ||
		h.Get("Cache-Control") != "public, max-age=10" || h.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("HEAD master.m3u8: %d %v", resp.StatusCode, h)
	}
	for path, code := range map[string]int{"/healthz": 200, "/metrics": 200, "/streams/lecture/missing.ts": 404, "/nowhere": 404} {
		r, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != code {
			t.Errorf("GET %s = %d, want %d", path, r.StatusCode, code)
		}
	}
}

func TestServeBadStorageFailsAtStart(t *testing.T) {
	cfg, err := parseConfig(nil, env(map[string]string{"EDGE_DATA_DIR": t.TempDir(), "EDGE_ORIGIN": "file://host/x"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	err = serve(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err == nil || !strings.HasPrefix(err.Error(), "EDGE_ORIGIN: ") {
		t.Fatalf("want an EDGE_ORIGIN error, got %v", err)
	}
}

// TestServeRefusesACacheFolderHoldingOtherFiles: EDGE_CACHE_DIR set by
// mistake to the data folder stops edge at start, deleting nothing (the
// disk cache deletes files in its folder).
func TestServeRefusesACacheFolderHoldingOtherFiles(t *testing.T) {
	dataDir := t.TempDir()
	notes := filepath.Join(dataDir, "media", "notes.txt")
	os.MkdirAll(filepath.Dir(notes), 0o755)
	os.WriteFile(notes, []byte("keep me"), 0o644)
	cfg, err := parseConfig(nil, env(map[string]string{"EDGE_DATA_DIR": dataDir, "EDGE_CACHE_DIR": dataDir}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	err = serve(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err == nil || !strings.HasPrefix(err.Error(), "EDGE_CACHE_DIR: ") || !strings.Contains(err.Error(), "edge did not write") {
		t.Fatalf("want an EDGE_CACHE_DIR error, got %v", err)
	}
	if b, err := os.ReadFile(notes); err != nil || string(b) != "keep me" {
		t.Fatalf("a file of the data folder was touched: %q, %v", b, err)
	}
}

// TestStartEmptiesOnlyJobsTempFiles: at start edge deletes what jobs cut
// short left in EDGE_DATA_DIR/tmp, and nothing else there: a data folder
// set to a project's or a home folder keeps its own tmp/.
func TestStartEmptiesOnlyJobsTempFiles(t *testing.T) {
	dataDir := t.TempDir()
	tmp := filepath.Join(dataDir, "tmp")
	cut := filepath.Join(tmp, jobs.TempPrefix+"job-123", "720p", "segment-0.ts")
	mine := filepath.Join(tmp, "notes", "todo.txt")
	for _, f := range []string{cut, mine, filepath.Join(tmp, jobs.TempPrefix+"judge-456")} {
		os.MkdirAll(filepath.Dir(f), 0o755)
		os.WriteFile(f, []byte("x"), 0o644)
	}
	got, err := tempDir(dataDir)
	if err != nil || got != tmp {
		t.Fatalf("tempDir = %q, %v", got, err)
	}
	left, _ := os.ReadDir(tmp)
	if len(left) != 1 || left[0].Name() != "notes" {
		t.Fatalf("left in tmp: %v, want only notes", left)
	}
	if b, err := os.ReadFile(mine); err != nil || string(b) != "x" {
		t.Fatalf("a file not edge's was touched: %q, %v", b, err)
	}
}

// TestGracefulShutdown: a request in flight when the signal comes finishes
// with its whole answer, and serve returns cleanly.
func TestGracefulShutdown(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/"+playback.DocumentKey {
			http.NotFound(w, r) // no private streams
			return
		}
		close(arrived)
		<-release
		w.Write([]byte("#EXTM3U\n"))
	}))
	t.Cleanup(origin.Close)
	base, stop := startServe(t, map[string]string{"EDGE_ORIGIN": origin.URL})

	type result struct {
		code int
		body []byte
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/streams/a/master.m3u8")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{resp.StatusCode, b, err}
	}()
	<-arrived
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// Shutdown closes the listener first: from then on a new request fails.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	waitfor.True(t, "new requests to be refused once shutdown began", func() bool {
		_, err := fresh.Get(base + "/healthz")
		return err != nil
	})
	close(release)
	r := <-got
	if r.err != nil || r.code != 200 || !bytes.Equal(r.body, []byte("#EXTM3U\n")) {
		t.Fatalf("in-flight request: %d %q %v", r.code, r.body, r.err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

func TestRunCommands(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"version"}, env(nil), nil, &out, &errOut); err != nil || !strings.HasPrefix(out.String(), "edge ") {
		t.Fatalf("version: %q %v", out.String(), err)
	}
	if err := run(context.Background(), []string{"frobnicate"}, env(nil), nil, &out, &errOut); err == nil || !strings.Contains(err.Error(), `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: %v", err)
	}
}
