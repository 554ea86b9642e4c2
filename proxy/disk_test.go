package proxy_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgehls/edge/internal/logtest"
	"github.com/edgehls/edge/internal/proxytest"
	"github.com/edgehls/edge/internal/waitfor"
	"github.com/edgehls/edge/proxy"
	"github.com/edgehls/edge/storage"
)

// segments makes n distinct segments of size bytes under streams/<stream>/.
func segments(stream string, n, size int) map[string]string {
	objects := map[string]string{}
	for i := range n {
		objects[fmt.Sprintf("streams/%s/segment-%d.ts", stream, i)] = strings.Repeat(string(rune('a'+i%26)), size)
	}
	return objects
}

// diskBytes is what a cache folder takes, its temporary files included, as
// du counts it on a filesystem of 4 KiB blocks: every file's size rounded
// up to whole blocks (counted from sizes, not from st_blocks, which xfs
// swells with room it set aside for a file still growing).
func diskBytes(t *testing.T, dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if info, err := e.Info(); err == nil { // a file evicted meanwhile is gone
				n += (info.Size() + 4095) / 4096 * 4096
			}
		}
		return nil
	})
	return n
}

// TestTiersAreBoundedByBytes: whatever is asked, the memory tier (playlists)
// holds at most EDGE_CACHE_BYTES and the disk tier's folder (segments,
// and the fills' temporary files) at most
// EDGE_DISK_CACHE_BYTES.
func TestTiersAreBoundedByBytes(t *testing.T) {
	objects := segments("big", 10, 100_000)
	for i := range 10 {
		objects[fmt.Sprintf("streams/big/%d.m3u8", i)] = "#EXTM3U\n" + strings.Repeat("#", 100_000)
	}
	origin := fileOrigin(t, objects)
	dir := t.TempDir()
	const memBound, diskBound = 250_000, 450_000
	srv := startEdge(t, proxy.Config{Origin: origin, CacheBytes: memBound, DiskBytes: diskBound, CacheDir: dir})
	for i := range 10 {
		for _, name := range []string{fmt.Sprintf("segment-%d.ts", i), fmt.Sprintf("%d.m3u8", i)} {
			r := get(t, fmt.Sprintf("%s/streams/big/%s", srv.URL, name))
			if want := len(objects["streams/big/"+name]); r.code != 200 || len(r.body) != want || r.header.Get("Content-Length") != fmt.Sprint(want) {
				t.Fatalf("%s: %d, %d bytes, Content-Length %q", name, r.code, len(r.body), r.header.Get("Content-Length"))
			}
			if b := metric(t, srv, "edge_cache_bytes"); b > memBound {
				t.Fatalf("memory tier holds %d bytes, bound %d", b, memBound)
			}
			if b := metric(t, srv, "edge_disk_cache_bytes"); b > diskBound {
				t.Fatalf("disk tier counts %d bytes, bound %d", b, diskBound)
			}
			if b := diskBytes(t, dir); b > diskBound {
				t.Fatalf("disk tier's files hold %d bytes, bound %d", b, diskBound)
			}
		}
	}
	if metric(t, srv, "edge_cache_objects") == 0 || metric(t, srv, "edge_disk_cache_objects") == 0 {
		t.Fatal("nothing cached: the bound was not tested")
	}
	// 10 segments of 100,000 bytes (25 blocks and one for the meta),
	// room for 4.
	if n := metric(t, srv, "edge_disk_cache_evictions_total"); n != 6 {
		t.Fatalf("edge_disk_cache_evictions_total = %d, want 6", n)
	}
	waitfor.True(t, "no temporary file left", func() bool {
		left, _ := os.ReadDir(filepath.Join(dir, "tmp"))
		return len(left) == 0
	})
}

// TestFillsInFlightCountTowardTheBound: a segment being fetched holds its
// room in the disk tier from its first byte, so the folder, temporary files
// included, never holds more than the bound: the least recent object goes
// when the fill begins, not once it is whole.
func TestFillsInFlightCountTowardTheBound(t *testing.T) {
	origin := &heldBodyStore{countingStore: fileOrigin(t, segments("big", 5, 100_000)),
		key: "streams/big/segment-4.ts", pause: 50_000, release: make(chan struct{})}
	dir := t.TempDir()
	const bound = 450_000 // room for four segments of 100,000 bytes
	srv := startEdge(t, proxy.Config{Origin: origin, DiskBytes: bound, CacheDir: dir})
	release := sync.OnceFunc(func() { close(origin.release) })
	t.Cleanup(release) // before the server's cleanup, which waits for the held answer
	for i := range 4 {
		if r := get(t, fmt.Sprintf("%s/streams/big/segment-%d.ts", srv.URL, i)); r.code != 200 {
			t.Fatalf("segment-%d: %d", i, r.code)
		}
	}
	if n := metric(t, srv, "edge_disk_cache_evictions_total"); n != 0 {
		t.Fatalf("%d evictions before the tier was full", n)
	}

	resp, err := http.Get(srv.URL + "/streams/big/segment-4.ts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadFull(resp.Body, make([]byte, origin.pause)); err != nil { // the fill wrote them
		t.Fatal(err)
	}
	if used := diskBytes(t, dir); used > bound {
		t.Fatalf("mid-fill the folder holds %d bytes, bound %d", used, bound)
	}
	if n := metric(t, srv, "edge_disk_cache_evictions_total"); n != 1 {
		t.Fatalf("mid-fill %d evictions, want 1: the fill's room was not held", n)
	}

	release()
	if rest, err := io.ReadAll(resp.Body); err != nil || len(rest) != 100_000-origin.pause {
		t.Fatalf("the rest of the body: %d bytes, %v", len(rest), err)
	}
	waitfor.True(t, "no temporary file left", func() bool {
		left, _ := os.ReadDir(filepath.Join(dir, "tmp"))
		return len(left) == 0
	})
	if used := diskBytes(t, dir); used > bound {
		t.Fatalf("the folder holds %d bytes, bound %d", used, bound)
	}
	if n := metric(t, srv, "edge_disk_cache_evictions_total"); n != 1 {
		t.Fatalf("%d evictions, want 1: the room was counted twice", n)
	}
	if r := get(t, srv.URL+"/streams/big/segment-4.ts"); r.header.Get("Cache-Status") != "edge; hit" {
		t.Fatalf("the object filled is not kept: %q", r.header.Get("Cache-Status"))
	}
}

// heldBodyStore gives one object's first pause bytes, then holds the rest
// of its body until release closes.
type heldBodyStore struct {
	*countingStore
	key     string
	pause   int
	release chan struct{}
}

func (s *heldBodyStore) Get(ctx context.Context, key string, rng *storage.Range) (*storage.Object, error) {
	obj, err := s.countingStore.Get(ctx, key, rng)
	if err != nil || key != s.key {
		return obj, err
	}
	head := io.LimitReader(obj.Body, int64(s.pause))
	obj.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(head, &afterClose{s.release, obj.Body}), obj.Body}
	return obj, nil
}

// afterClose reads r once c is closed.
type afterClose struct {
	c <-chan struct{}
	r io.Reader
}

func (a *afterClose) Read(b []byte) (int, error) {
	<-a.c
	return a.r.Read(b)
}

// TestHotSetSurvivesAScan: on an edge whose disk tier is full, as in
// steady use, segments viewers come back to stay cached when one viewer
// scrubs through a long video whose segments fill the tier ten times over.
// An LRU would have flushed them all.
func TestHotSetSurvivesAScan(t *testing.T) {
	objects := segments("hot", 8, 20_000)
	for _, stream := range []string{"long", "earlier"} {
		for k, v := range segments(stream, 200, 20_000) {
			objects[k] = v
		}
	}
	origin := fileOrigin(t, objects)
	// The disk holds 20 segments.
	srv := startEdge(t, proxy.Config{Origin: origin, DiskBytes: 20 * 21_000})
	hot := func() {
		for i := range 8 {
			get(t, fmt.Sprintf("%s/streams/hot/segment-%d.ts", srv.URL, i))
		}
	}
	for i := range 20 { // what earlier viewers watched: the tier is full
		get(t, fmt.Sprintf("%s/streams/earlier/segment-%d.ts", srv.URL, i))
	}
	for range 5 {
		hot()
	}
	for i := range 200 {
		get(t, fmt.Sprintf("%s/streams/long/segment-%d.ts", srv.URL, i))
	}
	before := origin.gets.Load()
	hot()
	refetched := origin.gets.Load() - before
	t.Logf("hot segments fetched again after a 200-segment scan: %d of 8", refetched)
	if refetched > 1 {
		t.Fatalf("the scan flushed %d of 8 hot segments", refetched)
	}
}

// cachedOnDisk has an edge, since stopped, store every object in a cache
// folder; it returns the origin and the folder.
func cachedOnDisk(t *testing.T, objects map[string]string) (*countingStore, string) {
	origin, dir := fileOrigin(t, objects), t.TempDir()
	first := startEdge(t, proxy.Config{Origin: origin, CacheDir: dir})
	for key := range objects {
		get(t, first.URL+"/"+key)
	}
	first.Close()
	return origin, dir
}

// TestRestartKeepsTheDiskTierWarm: a new edge on the same cache folder
// serves what the last one stored without asking the origin.
func TestRestartKeepsTheDiskTierWarm(t *testing.T) {
	objects := segments("s", 5, 50_000)
	origin, dir := cachedOnDisk(t, objects)
	before := origin.gets.Load()
	second := startEdge(t, proxy.Config{Origin: origin, CacheDir: dir})
	for key, body := range objects {
		if r := get(t, second.URL+"/"+key); r.body != body || r.header.Get("Cache-Status") != "edge; hit" || r.header.Get("Etag") == "" {
			t.Fatalf("%s after restart: %d bytes, %v", key, len(r.body), r.header)
		}
	}
	if n := origin.gets.Load() - before; n != 0 {
		t.Fatalf("a restarted edge asked the origin %d times for what it had on disk", n)
	}
}

// TestTornObjectsAreDiscardedAtStart: a file cut short (a crash, a full
// disk), a body whose meta was never written after it, a file whose
// footer is damaged and a fill's temporary file are never served: the
// next edge fetches the object whole again.
func TestTornObjectsAreDiscardedAtStart(t *testing.T) {
	objects := segments("s", 3, 50_000)
	origin, dir := cachedOnDisk(t, objects)
	var bodies []string
	filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && e.Name() != "EDGE-CACHE" {
			bodies = append(bodies, path)
		}
		return nil
	})
	if len(bodies) != 3 {
		t.Fatalf("cache folder: %v", bodies)
	}
	os.Truncate(bodies[0], 1000)   // torn
	os.Truncate(bodies[1], 50_000) // the body alone
	damageFooter(t, bodies[2])
	os.WriteFile(filepath.Join(dir, "tmp", "fill-1"), []byte("partial"), 0o644)
	before := origin.gets.Load()
	second := startEdge(t, proxy.Config{Origin: origin, CacheDir: dir})
	for key, body := range objects {
		if r := get(t, second.URL+"/"+key); r.body != body {
			t.Fatalf("%s: served %d bytes of %d", key, len(r.body), len(body))
		}
	}
	if n := origin.gets.Load() - before; n != 3 {
		t.Fatalf("origin fetches after discarding three bad objects: %d, want 3", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "tmp", "fill-1")); err == nil {
		t.Fatal("a fill's temporary file survived the start")
	}
}

// damageFooter makes the length an object's footer gives its meta far
// larger than the file.
func damageFooter(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, _ := f.Stat()
	const footer = 4 + len("edgeobj1")
	if _, err := f.WriteAt([]byte{0x7f, 0xff, 0xff, 0xff}, info.Size()-int64(footer)); err != nil {
		t.Fatal(err)
	}
}

// gatedOrigin sends the first half of a body, then waits for release.
type gatedOrigin struct {
	srv      *httptest.Server
	halfSent chan struct{}
	release  chan struct{}
	gets     atomic.Int64
}

func startGatedOrigin(t *testing.T, body string) *gatedOrigin {
	g := &gatedOrigin{halfSent: make(chan struct{}, 16), release: make(chan struct{})}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.gets.Add(1)
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		io.WriteString(w, body[:len(body)/2])
		w.(http.Flusher).Flush()
		g.halfSent <- struct{}{}
		select {
		case <-g.release:
			io.WriteString(w, body[len(body)/2:])
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(g.srv.Close)
	return g
}

// TestMissStreamsWhileFilling: the first viewer of a missing segment, and
// one who joins it, read the first half before the origin has sent the
// rest; both get the whole body from one origin fetch.
func TestMissStreamsWhileFilling(t *testing.T) {
	body := strings.Repeat("0123456789", 50_000)
	g := startGatedOrigin(t, body)
	store := httpOrigin(t, g.srv.URL)
	srv := startEdge(t, proxy.Config{Origin: store})
	url := srv.URL + "/streams/s/segment-0.ts"
	var bodies []io.ReadCloser
	for viewer := range 2 {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		half := make([]byte, len(body)/2)
		if _, err := io.ReadFull(resp.Body, half); err != nil || string(half) != body[:len(body)/2] {
			t.Fatalf("viewer %d: first half: %v", viewer, err)
		}
		if viewer == 1 && resp.Header.Get("Cache-Status") != "edge; fwd=miss; collapsed" {
			t.Fatalf("second viewer: %q", resp.Header.Get("Cache-Status"))
		}
		bodies = append(bodies, resp.Body)
	}
	<-g.halfSent
	close(g.release)
	for i, b := range bodies {
		rest, err := io.ReadAll(b)
		if err != nil || string(rest) != body[len(body)/2:] {
			t.Fatalf("viewer %d: rest: %v, %d bytes", i, err, len(rest))
		}
	}
	if n := g.gets.Load(); n != 1 {
		t.Fatalf("origin fetches: %d, want 1", n)
	}
	if r := get(t, url); r.body != body || r.header.Get("Cache-Status") != "edge; hit" {
		t.Fatalf("after the fill: %d bytes, %q", len(r.body), r.header.Get("Cache-Status"))
	}
}

// TestOriginBreakingOffMidBodyIsNeverTakenForWhole: viewers streaming a
// fill whose origin hangs up, and named no version (no ETag) the rest
// could be asked of (resume_test.go), see their connection cut, not a
// short body that looks whole, and nothing is cached.
func TestOriginBreakingOffMidBodyIsNeverTakenForWhole(t *testing.T) {
	body := strings.Repeat("x", 200_000)
	g := startGatedOrigin(t, body)
	store := httpOrigin(t, g.srv.URL)
	srv := startEdge(t, proxy.Config{Origin: store})
	url := srv.URL + "/streams/s/segment-0.ts"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	<-g.halfSent
	g.srv.CloseClientConnections() // the origin hangs up half-way
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || len(got) == len(body) {
		t.Fatalf("a broken fill read as %d whole bytes (err %v)", len(got), err)
	}
	close(g.release)
	if r := get(t, url); r.code != 200 || r.body != body || r.header.Get("Cache-Status") != "edge; fwd=miss; stored" {
		t.Fatalf("after the break: %d, %d bytes, %q", r.code, len(r.body), r.header.Get("Cache-Status"))
	}
}

// TestNotFoundIsRememberedBriefly: a missing key costs one origin request
// while it is remembered (NotFoundTTL, on the proxy's clock), then is
// asked again. Cache-Status tells the origin's 404 from the remembered
// ones, and a 404 the origin was never asked for carries none.
func TestNotFoundIsRememberedBriefly(t *testing.T) {
	origin := fileOrigin(t, fixtures)
	clk := newClock()
	const ttl = 5 * time.Second
	srv := startEdge(t, proxy.Config{Origin: origin, NotFoundTTL: ttl, Now: clk.Now})
	for _, path := range []string{"/streams/s1/720p/segment-9.ts", "/streams/s1/other.m3u8"} {
		before := origin.gets.Load()
		ask := func(when string, wantStatus string, wantGets int64) {
			t.Helper()
			r := get(t, srv.URL+path)
			if r.code != 404 {
				t.Fatalf("%s, %s: %d", path, when, r.code)
			}
			if got := r.header.Get("Cache-Status"); got != wantStatus {
				t.Fatalf("%s, %s: Cache-Status %q, want %q", path, when, got, wantStatus)
			}
			if n := origin.gets.Load() - before; n != wantGets {
				t.Fatalf("%s, %s: %d origin requests in all, want %d", path, when, n, wantGets)
			}
		}
		ask("first request", "edge; fwd=miss", 1)
		for range 4 {
			ask("asked again at once", "edge; hit", 1)
		}
		clk.Advance(ttl - time.Millisecond)
		ask("just before the TTL ends", "edge; hit", 1)
		clk.Advance(time.Millisecond)
		ask("once the TTL ended", "edge; fwd=miss", 2)
		ask("right after", "edge; hit", 2)
	}
	if metric(t, srv, "edge_cache_not_found_hits_total") < 8 {
		t.Fatal("remembered 404s not counted")
	}
	if r := get(t, srv.URL+"/streams/s1/notes.txt"); r.code != 404 || r.header.Get("Cache-Status") != "" {
		t.Fatalf("a type never served: %d, Cache-Status %q, want 404 and none", r.code, r.header.Get("Cache-Status"))
	}
}

// TestPurgeForgetsAStreamInBothTiers: after PurgeStream, nothing of the
// stream is served from the cache — memory, disk or a fill in flight —
// and other streams stay cached.
func TestPurgeForgetsAStreamInBothTiers(t *testing.T) {
	objects := segments("gone", 3, 10_000)
	objects["streams/gone/master.m3u8"] = "#EXTM3U\n"
	objects["streams/kept/segment-0.ts"] = "kept"
	origin := fileOrigin(t, objects)
	cfg := proxy.Config{Origin: origin, CacheDir: t.TempDir()}
	p := proxytest.New(t, cfg)
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	for range 2 { // a miss, then a hit: playlists in memory, segments on disk
		for key := range objects {
			get(t, srv.URL+"/"+key)
		}
	}
	get(t, srv.URL+"/streams/gone/missing.ts") // a remembered 404
	for key := range objects {
		if strings.HasPrefix(key, "streams/gone/") {
			origin.Store.Delete(t.Context(), key)
		}
	}
	origin.Store.Put(t.Context(), "streams/gone/missing.ts", strings.NewReader("late"), 4)
	p.PurgeStream("gone")
	for key := range objects {
		r := get(t, srv.URL+"/"+key)
		if want := 404; strings.HasPrefix(key, "streams/gone/") && r.code != want {
			t.Fatalf("%s after purge: %d %q", key, r.code, r.header.Get("Cache-Status"))
		}
		if strings.HasPrefix(key, "streams/kept/") && r.header.Get("Cache-Status") != "edge; hit" {
			t.Fatalf("another stream's %s was purged too: %v", key, r.header)
		}
	}
	if r := get(t, srv.URL+"/streams/gone/missing.ts"); r.body != "late" {
		t.Fatalf("a remembered 404 outlived the purge: %d", r.code)
	}
}

// TestPurgeDuringAFillKeepsNothing: a fill under way when its stream is
// purged serves its viewer but is not kept: the next request asks the
// origin again.
func TestPurgeDuringAFillKeepsNothing(t *testing.T) {
	body := strings.Repeat("y", 100_000)
	g := startGatedOrigin(t, body)
	store := httpOrigin(t, g.srv.URL)
	p := proxytest.New(t, proxy.Config{Origin: store})
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	url := srv.URL + "/streams/s/segment-0.ts"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	<-g.halfSent
	p.PurgeStream("s")
	close(g.release)
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(got) != body {
		t.Fatalf("the viewer of a purged fill: %v, %d bytes", err, len(got))
	}
	if r := get(t, url); r.header.Get("Cache-Status") != "edge; fwd=miss; stored" || g.gets.Load() != 2 {
		t.Fatalf("after the purge: %q, %d origin fetches", r.header.Get("Cache-Status"), g.gets.Load())
	}
}

// TestSegmentStillBeingWrittenIsNotCached: a segment modified a moment ago
// (still being copied into the media folder, perhaps) is served as read
// but not kept; once it has settled it is cached.
func TestSegmentStillBeingWrittenIsNotCached(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "streams", "a", "segment-0.ts")
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path, []byte("part of a segment"), 0o644)
	store, err := storage.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	origin := &countingStore{Store: store}
	srv := startEdge(t, proxy.Config{Origin: origin})
	url := srv.URL + "/streams/a/segment-0.ts"
	for range 2 {
		if r := get(t, url); r.code != 200 || r.body != "part of a segment" || r.header.Get("Cache-Status") != "edge; fwd=miss; detail=still-changing" {
			t.Fatalf("fresh segment: %d %q %q", r.code, r.body, r.header.Get("Cache-Status"))
		}
	}
	if n := origin.gets.Load(); n != 2 {
		t.Fatalf("a segment still changing was cached: %d origin reads for 2 requests", n)
	}
	os.WriteFile(path, []byte("the whole segment"), 0o644)
	settled := time.Now().Add(-time.Minute)
	os.Chtimes(path, settled, settled)
	get(t, url)
	if r := get(t, url); r.body != "the whole segment" || r.header.Get("Cache-Status") != "edge; hit" {
		t.Fatalf("settled segment: %q %q", r.body, r.header.Get("Cache-Status"))
	}
}

// TestViewersAsAFillEndsCostNoSecondFetch: viewers who keep asking for a
// segment while its fill ends find either the fill or the stored object,
// never neither; each segment costs one origin fetch.
func TestViewersAsAFillEndsCostNoSecondFetch(t *testing.T) {
	objects := segments("busy", 30, 50_000)
	origin := fileOrigin(t, objects)
	srv := startEdge(t, proxy.Config{Origin: origin})
	const viewers = 4
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = viewers
	for key := range objects {
		var wg sync.WaitGroup
		for range viewers {
			wg.Go(func() {
				// Ask until the answer comes from the disk tier: every
				// request until then raced the fill's end.
				for get(t, srv.URL+"/"+key).header.Get("Cache-Status") != "edge; hit" {
				}
			})
		}
		wg.Wait()
	}
	if n := origin.gets.Load(); n != int64(len(objects)) {
		t.Fatalf("%d segments cost %d origin fetches, want one each", len(objects), n)
	}
}

// TestSegmentsAheadOfAViewerStay: when the tier must evict, the segments
// just after one a viewer asks for go last, however long ago they were
// fetched: that viewer asks for them next. A plain (segmented) LRU drops
// the oldest, the very segment the second viewer of "a" needs.
func TestSegmentsAheadOfAViewerStay(t *testing.T) {
	objects := segments("a", 3, 20_000)
	for k, v := range segments("b", 2, 20_000) {
		objects[k] = v
	}
	origin := fileOrigin(t, objects)
	// The disk holds 4 segments.
	srv := startEdge(t, proxy.Config{Origin: origin, DiskBytes: 4 * 21_000})
	seg := func(stream string, i int) string {
		return fmt.Sprintf("%s/streams/%s/segment-%d.ts", srv.URL, stream, i)
	}
	for i := range 3 { // a first viewer watched a
		get(t, seg("a", i))
	}
	get(t, seg("b", 0)) // someone started b: the tier is full
	get(t, seg("a", 0)) // a second viewer starts a
	get(t, seg("b", 1)) // b goes on: one segment must go
	before := origin.gets.Load()
	get(t, seg("a", 1)) // the second viewer's next segment
	if n := origin.gets.Load() - before; n != 0 {
		t.Fatalf("the segment after the one a viewer had just asked for was evicted (%d origin fetch)", n)
	}
}

// TestSegmentETags: an origin's ETag is kept; without one, edge makes a
// strong one from the body, the same on the miss (a ranged request waits
// for the whole body) and on every hit after.
func TestSegmentETags(t *testing.T) {
	body := strings.Repeat("x", 100_000)
	for _, tc := range []struct {
		name, origin string
	}{
		{"origin gives one", `"from-origin"`},
		{"origin gives none", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			settled := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
			origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.origin != "" {
					w.Header().Set("ETag", tc.origin)
				}
				w.Header().Set("Last-Modified", settled)
				io.WriteString(w, body)
			}))
			t.Cleanup(origin.Close)
			srv := startEdge(t, proxy.Config{Origin: httpOrigin(t, origin.URL)})
			url := srv.URL + "/streams/s/segment-0.ts"
			miss := do(t, http.MethodGet, url, map[string]string{"Range": "bytes=0-9"})
			hit := get(t, url)
			etag := miss.header.Get("Etag")
			if miss.code != http.StatusPartialContent || hit.header.Get("Cache-Status") != "edge; hit" || hit.body != body {
				t.Fatalf("miss %d, hit %q", miss.code, hit.header.Get("Cache-Status"))
			}
			if etag == "" || hit.header.Get("Etag") != etag || (tc.origin != "" && etag != tc.origin) {
				t.Fatalf("ETag on the miss %q, on the hit %q, origin's %q", etag, hit.header.Get("Etag"), tc.origin)
			}
		})
	}
}

// TestFullDiskTierServesFromTheOrigin: when the disk tier cannot make a
// file (a full or read-only volume; here its tmp/ folder is a file), every
// viewer still gets the whole segment, from the origin, the error is
// logged for the operator, and nothing is cached or counted as an origin
// error.
func TestFullDiskTierServesFromTheOrigin(t *testing.T) {
	objects := segments("a", 1, 100_000)
	origin := fileOrigin(t, objects)
	dir := t.TempDir()
	var logs logtest.Buffer
	srv := startEdge(t, proxy.Config{Origin: origin, CacheDir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	tmp := filepath.Join(dir, "tmp")
	if err := os.RemoveAll(tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmp, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	url := srv.URL + "/streams/a/segment-0.ts"
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			resp, err := http.Get(url)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != 200 || string(b) != objects["streams/a/segment-0.ts"] {
				t.Errorf("viewer: %d, %d bytes, %v", resp.StatusCode, len(b), err)
			}
		})
	}
	wg.Wait()
	if r := get(t, url); r.code != 200 || r.header.Get("Cache-Status") != "edge; fwd=miss; detail=cache-unavailable" {
		t.Fatalf("after: %d %q", r.code, r.header.Get("Cache-Status"))
	}
	if !strings.Contains(logs.String(), "disk cache: serving from the origin without it") {
		t.Fatalf("nothing logged:\n%s", logs.String())
	}
	if n := metric(t, srv, "edge_origin_errors_total"); n != 0 {
		t.Fatalf("origin errors: %v", n)
	}
}

// TestVolumeRunningOutOfSpace: on a volume smaller than the bound
// configured (a 2 MiB tmpfs under a 100 MiB tier), a fill whose write
// meets "no space left" halfway through its body lowers the tier's bound,
// evicts, and writes on: its viewer gets the segment whole, not a cut
// connection, and later fills find room. Mounting needs root, as make
// test-deps does.
func TestVolumeRunningOutOfSpace(t *testing.T) {
	dir := smallVolume(t, "2m")
	// 300 kB segments: the 7th starts with 270 kB free, so its volume
	// fills after its head and first bytes went out.
	objects := segments("a", 16, 300_000)
	var logs logtest.Buffer
	srv := startEdge(t, proxy.Config{Origin: fileOrigin(t, objects), CacheDir: dir, DiskBytes: 100 << 20,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for i := range 16 {
		key := fmt.Sprintf("streams/a/segment-%d.ts", i)
		for viewer := range 2 { // the second finds it stored
			if r := get(t, srv.URL+"/"+key); r.code != 200 || r.body != objects[key] {
				t.Fatalf("viewer %d: %s: %d, %d bytes", viewer, key, r.code, len(r.body))
			}
		}
	}
	if !strings.Contains(logs.String(), "its volume is full; bound lowered") {
		t.Fatalf("the bound was not lowered:\n%s", logs.String())
	}
	if held := metric(t, srv, "edge_disk_cache_bytes"); held > 2<<20 {
		t.Fatalf("the tier believes it holds %d bytes on a 2 MiB volume", held)
	}
	if hits := metric(t, srv, "edge_cache_hits_total"); hits < 12 {
		t.Fatalf("%d of 16 second viewers were served from the tier\n%s", hits, logs.String())
	}
}

// smallVolume mounts a tmpfs of the given size for the test.
func smallVolume(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("mounting a small volume needs root (make test runs as root to install its dependencies)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount a %s tmpfs: %v: %s", size, err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}
