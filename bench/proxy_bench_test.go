// Package bench holds edge's benchmarks: these Go benchmarks of the proxy's
// hot path, and run.sh, which compares edge with nginx under wrk.
package bench

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/edgehls/edge/proxy"
	"github.com/edgehls/edge/storage/storagetest"
)

// discardWriter is a minimal ResponseWriter so the benchmark measures the
// proxy, not a recorder.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// ReadFrom stands for net/http's own, which copies with pooled buffers.
func (d *discardWriter) ReadFrom(r io.Reader) (int64, error) { return io.Copy(io.Discard, r) }

func newProxy(b *testing.B, objects map[string]string) *proxy.Proxy {
	b.Helper()
	p, err := proxy.New(proxy.Config{Origin: storagetest.NewFileStore(b, objects), CacheDir: b.TempDir(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func benchHit(b *testing.B, key string, size int, hdr map[string]string) {
	p := newProxy(b, map[string]string{key: strings.Repeat("x", size)})
	req := httptest.NewRequest(http.MethodGet, "/"+key, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	p.ServeHTTP(&discardWriter{h: http.Header{}}, req) // warm the cache
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{}
		for pb.Next() {
			w.h = make(http.Header, 16)
			p.ServeHTTP(w, req)
		}
	})
}

func BenchmarkHitPlaylist(b *testing.B) {
	benchHit(b, "streams/bench/720p/stream.m3u8", 400, nil)
}

func BenchmarkHitSegment(b *testing.B) {
	benchHit(b, "streams/bench/720p/segment-1.ts", 1_500_000, nil)
}

func BenchmarkHitSegmentRange(b *testing.B) {
	benchHit(b, "streams/bench/720p/segment-1.ts", 1_500_000, map[string]string{"Range": "bytes=1000-65535"})
}

// BenchmarkMissCoalesced: many goroutines asking for objects that are not
// cached yet; each key costs one origin read.
func BenchmarkMissFileOrigin(b *testing.B) {
	objects := map[string]string{}
	for i := range 64 {
		objects["streams/bench/720p/segment-"+strings.Repeat("1", i+1)+".ts"] = strings.Repeat("x", 200_000)
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		p := newProxy(b, objects)
		b.StartTimer()
		for k := range objects {
			p.ServeHTTP(&discardWriter{h: http.Header{}}, httptest.NewRequest(http.MethodGet, "/"+k, nil))
		}
	}
}
