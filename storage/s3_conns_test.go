package storage_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/edgehls/edge/storage"
	"github.com/edgehls/edge/storage/storagetest"
)

// TestS3StoreKeepsConnectionsForBursts: rounds of 30 concurrent reads, as
// a busy edge's misses come, reuse the connections of the round before
// instead of opening new ones each time (the AWS SDK keeps 10 idle per
// host by default: every round would then open 20 more).
func TestS3StoreKeepsConnectionsForBursts(t *testing.T) {
	srv := storagetest.StartS3(t)
	opened := countingForwarder(t, strings.TrimPrefix(srv.Endpoint, "http://"))
	ctx := context.Background()
	s, err := storage.NewS3Store(ctx, storage.S3Options{Bucket: srv.Bucket, PathStyle: true, Endpoint: opened.url,
		Region: srv.Region, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	must(t, err)
	must(t, s.Put(ctx, "streams/a/720p/segment-0.ts", strings.NewReader(body), int64(len(body))))
	const burst, rounds = 30, 4
	for range rounds {
		var wg sync.WaitGroup
		for range burst {
			wg.Go(func() {
				obj, err := s.Get(ctx, "streams/a/720p/segment-0.ts", nil)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, obj.Body)
				obj.Body.Close()
			})
		}
		wg.Wait()
	}
	n := opened.conns.Load()
	t.Logf("%d rounds of %d concurrent reads opened %d connections", rounds, burst, n)
	if n > 2*burst {
		t.Fatalf("%d rounds of %d concurrent reads opened %d connections: idle ones were closed between bursts", rounds, burst, n)
	}
}

type forwarder struct {
	url   string
	conns atomic.Int64
}

// countingForwarder relays TCP connections to addr and counts them.
func countingForwarder(t *testing.T, addr string) *forwarder {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	t.Cleanup(func() { l.Close() })
	f := &forwarder{url: "http://" + l.Addr().String()}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			f.conns.Add(1)
			go relay(c, addr)
		}
	}()
	return f
}

func relay(c net.Conn, addr string) {
	defer c.Close()
	up, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	defer up.Close()
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
}
