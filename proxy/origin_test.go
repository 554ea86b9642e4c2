package proxy_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/edgehls/edge/internal/hlstest"
	"github.com/edgehls/edge/proxy"
	"github.com/edgehls/edge/storage"
	"github.com/edgehls/edge/storage/storagetest"
)

const ladderSeconds = 4

// TestLadderPlaysThroughProxy serves a real ffmpeg ladder from each kind of
// origin and reads every rendition back with ffprobe, an independent client.
func TestLadderPlaysThroughProxy(t *testing.T) {
	dir := t.TempDir()
	hlstest.MakeLadder(t, filepath.Join(dir, "streams/lecture"), ladderSeconds)
	s3srv := storagetest.StartS3(t)
	s3store := newS3Store(t, s3srv, s3srv.SecretKey)
	if err := storage.PutDir(context.Background(), s3store, dir, ""); err != nil {
		t.Fatal(err)
	}
	fileStore, err := storage.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	httpOrigin := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(httpOrigin.Close)
	httpStore, err := storage.NewHTTPStore(httpOrigin.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, origin := range map[string]storage.Store{"file": fileStore, "s3": s3store, "http": httpStore} {
		t.Run(name, func(t *testing.T) {
			srv := startEdge(t, proxy.Config{Origin: origin})
			base := srv.URL + "/streams/lecture/"
			if w, _ := hlstest.VideoSizes(t, base+"master.m3u8"); !slices.Equal(w, []int{640, 1280}) {
				t.Fatalf("master.m3u8 video widths %v, want [640 1280]", w)
			}
			for _, r := range hlstest.Renditions {
				if n := countPackets(t, base+r+"/stream.m3u8"); n < 30*ladderSeconds {
					t.Fatalf("%s: ffprobe read %d video packets, want ≥ %d", r, n, 30*ladderSeconds)
				}
			}
			if misses := metric(t, srv, "edge_cache_misses_total"); misses == 0 {
				t.Fatal("ffprobe did not go through the proxy")
			}
		})
	}
}

func TestS3OriginWithWrongKeyAnswers502(t *testing.T) {
	s3srv := storagetest.StartS3(t)
	good := newS3Store(t, s3srv, s3srv.SecretKey)
	const playlist = "#EXTM3U\n#EXT-X-ENDLIST\n"
	if err := good.Put(context.Background(), "streams/a/master.m3u8", strings.NewReader(playlist), int64(len(playlist))); err != nil {
		t.Fatal(err)
	}
	if r := get(t, startEdge(t, proxy.Config{Origin: good}).URL+"/streams/a/master.m3u8"); r.code != 200 || r.body != playlist {
		t.Fatalf("good key: %d %q", r.code, r.body)
	}
	bad := startEdge(t, proxy.Config{Origin: newS3Store(t, s3srv, "not-the-secret")})
	for _, path := range []string{"/streams/a/master.m3u8", "/streams/a/missing.ts"} {
		if r := get(t, bad.URL+path); r.code != 502 || strings.Contains(r.body, "EXTM3U") {
			t.Fatalf("wrong key %s: %d %q, want 502", path, r.code, r.body)
		}
	}
}

func TestHTTPOriginDownAnswers502(t *testing.T) {
	// Port 1: nothing listens there, and no test server is ever given it.
	// A closed httptest server's port was handed to another test's server
	// meanwhile once in 30 shuffled runs, which then kept the request
	// until the origin timeout.
	store, err := storage.NewHTTPStore("http://127.0.0.1:1/", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := startEdge(t, proxy.Config{Origin: store})
	if r := get(t, srv.URL+"/streams/a/master.m3u8"); r.code != 502 || r.body != "origin error\n" {
		t.Fatalf("origin down: %d %q", r.code, r.body)
	}
}

func newS3Store(t *testing.T, s *storagetest.S3Server, secret string) *storage.S3Store {
	t.Helper()
	st, err := storage.NewS3Store(context.Background(), storage.S3Options{
		Bucket: s.Bucket, PathStyle: true, Endpoint: s.Endpoint, Region: s.Region,
		AccessKey: s.AccessKey, SecretKey: secret,
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func countPackets(t *testing.T, url string) int {
	t.Helper()
	var out struct {
		Streams []struct {
			Packets string `json:"nb_read_packets"`
		} `json:"streams"`
	}
	hlstest.FFprobe(t, &out, "-select_streams", "v:0", "-count_packets", "-show_entries", "stream=nb_read_packets", url)
	if len(out.Streams) != 1 {
		t.Fatalf("ffprobe %s: %d video streams", url, len(out.Streams))
	}
	var n int
	json.Unmarshal([]byte(out.Streams[0].Packets), &n)
	return n
}
