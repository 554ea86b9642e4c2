package proxy_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/edgehls/edge/internal/waitfor"
	"github.com/edgehls/edge/playback"
	"github.com/edgehls/edge/proxy"
	"github.com/edgehls/edge/storage"
)

// zeroOrigin serves any key as size bytes, made as they are read, so the
// test's own memory does not count.
type zeroOrigin struct {
	storage.Store
	size int64
}

func (z zeroOrigin) Get(_ context.Context, key string, _ *storage.Range) (*storage.Object, error) {
	if key == playback.DocumentKey {
		return nil, storage.ErrNotFound
	}
	body := io.NopCloser(io.LimitReader(zeros{}, z.size))
	return &storage.Object{Info: storage.Info{Key: key, Size: z.size}, Body: body}, nil
}

type zeros struct{}

func (zeros) Read(b []byte) (int, error) { clear(b); return len(b), nil }

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// TestStalledViewersDoNotHoldBodies: 40 viewers each ask for a different
// 8 MiB segment and read nothing. Their bodies go to the disk tier and are
// sent from it, so edge's heap grows by a small fraction of the 320 MiB
// asked for, where a proxy that buffers each body per viewer would hold it
// all while the viewers stall.
func TestStalledViewersDoNotHoldBodies(t *testing.T) {
	const viewers, size = 40, 8 << 20
	srv := startEdge(t, proxy.Config{Origin: zeroOrigin{size: size}, StallTimeout: time.Minute})
	before := heapInUse()
	var bodies []io.ReadCloser
	for i := range viewers {
		resp, err := http.Get(fmt.Sprintf("%s/streams/s/segment-%d.ts", srv.URL, i))
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, resp.Body) // never read
	}
	waitfor.True(t, "every fill to finish", func() bool {
		return metric(t, srv, "edge_disk_cache_objects") == viewers
	})
	grew := heapInUse() - before
	t.Logf("heap grew by %d MiB for %d stalled viewers of %d MiB each", grew>>20, viewers, size>>20)
	if grew > 32<<20 {
		t.Fatalf("heap grew by %d MiB: bodies are held per viewer", grew>>20)
	}
	for _, b := range bodies {
		b.Close()
	}
}
