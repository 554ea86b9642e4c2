package proxy_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgehls/edge/internal/proxytest"
	"github.com/edgehls/edge/playback"
	"github.com/edgehls/edge/proxy"
	"github.com/edgehls/edge/storage"
	"github.com/edgehls/edge/storage/storagetest"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// countingStore is a real store that counts origin reads of stream
// objects and can be made to fail or to hold them until released. The
// playback document passes through untouched unless docsToo is set, so
// tests of objects count objects.
type countingStore struct {
	docsToo bool
	storage.Store
	gets atomic.Int64
	mu   sync.Mutex
	fail error
	gate chan struct{}
}

func (s *countingStore) Get(ctx context.Context, key string, rng *storage.Range) (*storage.Object, error) {
	if key == playback.DocumentKey && !s.docsToo {
		return s.Store.Get(ctx, key, rng)
	}
	s.gets.Add(1)
	s.mu.Lock()
	fail, gate := s.fail, s.gate
	s.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if fail != nil {
		return nil, fail
	}
	return s.Store.Get(ctx, key, rng)
}

func (s *countingStore) setFail(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

// fileOrigin makes a counting local-folder origin holding the given objects.
func fileOrigin(t *testing.T, objects map[string]string) *countingStore {
	t.Helper()
	return &countingStore{Store: storagetest.NewFileStore(t, objects)}
}

// clock is a settable time source for TTL and stale tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// startEdge serves the proxy on 127.0.0.1 the way web mounts it.
func startEdge(t *testing.T, cfg proxy.Config) *httptest.Server {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p := proxytest.New(t, cfg)
	// No ServeMux: it would clean "..", hiding what the proxy itself does.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			p.Metrics().ServeHTTP(w, r)
			return
		}
		p.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

type response struct {
	code   int
	header http.Header
	body   string
}

func do(t *testing.T, method, url string, hdr map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

func get(t *testing.T, url string) response {
	t.Helper()
	return do(t, http.MethodGet, url, nil)
}

// rawGet sends the request target byte for byte, so encodings reach the
// server exactly as a hostile client would send them.
func rawGet(t *testing.T, srv *httptest.Server, target string) int {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: edge\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %q: %v", target, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// metric reads one counter or gauge from /metrics with the Prometheus
// project's own text parser, so the exposition is checked by a tool edge
// did not write.
func metric(t *testing.T, srv *httptest.Server, name string) int64 {
	t.Helper()
	families := scrape(t, srv)
	f, ok := families[name]
	if !ok || len(f.GetMetric()) != 1 {
		t.Fatalf("metric %s missing from /metrics (%d families)", name, len(families))
	}
	m := f.GetMetric()[0]
	switch {
	case m.GetCounter() != nil:
		return int64(m.GetCounter().GetValue())
	case m.GetGauge() != nil:
		return int64(m.GetGauge().GetValue())
	}
	t.Fatalf("metric %s is a %v, not a counter or gauge", name, f.GetType())
	return 0
}

// scrape fetches /metrics and parses it as Prometheus does.
func scrape(t *testing.T, srv *httptest.Server) map[string]*dto.MetricFamily {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(get(t, srv.URL+"/metrics").body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return families
}

// noDocument is an origin where no playback document was published, for
// origins that answer any key with one test object.
type noDocument struct{ storage.Store }

func (s noDocument) Get(ctx context.Context, key string, rng *storage.Range) (*storage.Object, error) {
	if key == playback.DocumentKey {
		return nil, storage.ErrNotFound
	}
	return s.Store.Get(ctx, key, rng)
}

// hangingStore holds every read until the caller's context ends.
type hangingStore struct{ *countingStore }

func (s *hangingStore) Get(ctx context.Context, _ string, _ *storage.Range) (*storage.Object, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
