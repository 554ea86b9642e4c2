package jobs_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/internal/hlstest"
	"github.com/edgehls/edge/internal/waitfor"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/storage/storagetest"
)

// importEnv is a manager whose imports may fetch from 127.0.0.1 only (as
// EDGE_IMPORT_ALLOW=127.0.0.1/32 would allow an intranet server), and a
// real video served by a test server there.
type importEnv struct {
	m      *jobs.Manager
	d      *db.DB
	video  []byte
	ranges atomic.Int64 // requests that asked for a Range
}

func newImportEnv(t *testing.T, maxBytes int64) *importEnv {
	t.Helper()
	fs := storagetest.NewFileStore(t, nil)
	m, d := newManager(t, fs)
	m.TempDir = t.TempDir()
	m.Importer = &jobs.Importer{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, MaxBytes: maxBytes}
	src := filepath.Join(t.TempDir(), "talk.mp4")
	hlstest.MakeSource(t, src, 2, "320x240", true)
	video, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	return &importEnv{m: m, d: d, video: video}
}

// serve starts the server a CMS would give the URL of.
func (e *importEnv) serve(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") != "" {
			e.ranges.Add(1)
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (e *importEnv) video200(w http.ResponseWriter, r *http.Request) {
	http.ServeContent(w, r, "talk.mp4", time.Unix(1e9, 0), bytes.NewReader(e.video))
}

// settle waits for the import to end and returns the stream.
func (e *importEnv) settle(t *testing.T, id string) *db.Stream {
	t.Helper()
	var st *db.Stream
	waitfor.True(t, "the import to end", func() bool {
		st, _ = e.d.Stream(context.Background(), id)
		return st != nil && st.Status != db.StatusUploading
	})
	return st
}

func (e *importEnv) uploaded(t *testing.T, st *db.Stream) []byte {
	t.Helper()
	obj, err := e.m.UploadStore().Get(context.Background(), st.SourceKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	b, _ := io.ReadAll(obj.Body)
	return b
}

func TestImportByURL(t *testing.T) {
	ctx := context.Background()
	e := newImportEnv(t, 64<<20)
	base := e.serve(t, e.video200)
	st, err := e.m.Import(ctx, jobs.Submission{Source: base + "/media/Team%20talk.mp4", Playback: "signed"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Title != "Team talk" || st.Status != db.StatusUploading || st.Playback != "signed" {
		t.Fatalf("created %+v", st)
	}
	st = e.settle(t, st.ID)
	if st.Status != db.StatusQueued || st.SourceKey != "uploads/"+st.ID+"/Team_talk.mp4" || !bytes.Equal(e.uploaded(t, st), e.video) {
		t.Fatalf("after the import: %s %q %q", st.Status, st.SourceKey, st.Error)
	}
}

// While the download goes, the stream shows how far it is: here the
// server sends half the file, then waits until the stream shows a share
// of it (written at most once a second, so not necessarily the half).
func TestImportShowsItsProgress(t *testing.T) {
	e := newImportEnv(t, 64<<20)
	halfway := make(chan struct{})
	var release sync.Once
	base := e.serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", itoa(len(e.video)))
		w.Write(e.video[:len(e.video)/2])
		w.(http.Flusher).Flush()
		<-halfway
		w.Write(e.video[len(e.video)/2:])
	})
	t.Cleanup(func() { release.Do(func() { close(halfway) }) }) // before the server closes, should the wait fail
	st, err := e.m.Import(context.Background(), jobs.Submission{Source: base + "/talk.mp4"})
	if err != nil {
		t.Fatal(err)
	}
	waitfor.True(t, "the stream to show the download under way", func() bool {
		got, _ := e.d.Stream(context.Background(), st.ID)
		return got != nil && got.Status == db.StatusUploading && got.Progress > 0 && got.Progress <= 50
	})
	release.Do(func() { close(halfway) })
	if st = e.settle(t, st.ID); st.Status != db.StatusQueued || !bytes.Equal(e.uploaded(t, st), e.video) {
		t.Fatalf("after the import: %s %q", st.Status, st.Error)
	}
}

// A server that drops the connection half-way: edge takes the download up
// with a Range request and ends with the whole file, byte for byte.
func TestImportResumesAfterADroppedConnection(t *testing.T) {
	e := newImportEnv(t, 64<<20)
	var first atomic.Bool
	base := e.serve(t, func(w http.ResponseWriter, r *http.Request) {
		if !first.Swap(true) {
			w.Header().Set("Content-Length", itoa(len(e.video)))
			w.Header().Set("ETag", `"v1"`)
			w.Write(e.video[:len(e.video)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // the connection drops
		}
		w.Header().Set("ETag", `"v1"`)
		e.video200(w, r)
	})
	st, err := e.m.Import(context.Background(), jobs.Submission{Source: base + "/talk.mp4"})
	if err != nil {
		t.Fatal(err)
	}
	st = e.settle(t, st.ID)
	if st.Status != db.StatusQueued || !bytes.Equal(e.uploaded(t, st), e.video) {
		t.Fatalf("after a dropped connection: %s %q", st.Status, st.Error)
	}
	if e.ranges.Load() != 1 {
		t.Fatalf("%d ranged requests, want 1: the second half only", e.ranges.Load())
	}
}

// Refused up front: each answers 422 naming the url and makes no stream.
func TestImportRefusesBadURLs(t *testing.T) {
	ctx := context.Background()
	e := newImportEnv(t, 64<<20)
	for _, tc := range []struct{ url, want string }{
		{"ftp://example.com/a.mp4", `scheme "ftp" is not supported`},
		{"file:///etc/passwd", `scheme "file" is not supported`},
		{"https://user:pw@example.com/a.mp4", "credentials in the URL"},
		{"http://10.1.2.3/a.mp4", "private, local or reserved address"},
		{"http://169.254.169.254/latest/meta-data/", "private, local or reserved address"},
		{"http://[::1]:8080/a.mp4", "private, local or reserved address"},
		{"http://127.0.0.2:8080/a.mp4", "private, local or reserved address"},
		{"not a url", "not a URL edge can reach"},
	} {
		_, err := e.m.Import(ctx, jobs.Submission{Source: tc.url})
		ae, ok := apperr.As(err)
		if !ok || ae.Kind != apperr.Invalid || !strings.HasPrefix(ae.Message, "url: ") || !strings.Contains(ae.Message, tc.want) {
			t.Errorf("%s: %v", tc.url, err)
		}
	}
	if list, _, _ := e.d.ListStreams(ctx, db.StreamFilter{}); len(list) != 0 {
		t.Fatalf("refused imports made streams: %d", len(list))
	}
}

// Refused while downloading: the stream fails with a message for its
// user, and nothing is stored.
func TestImportFailures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler func(e *importEnv) http.HandlerFunc
		want    string
	}{
		{"a redirect to loopback", func(e *importEnv) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "http://127.0.0.2:9/secret.mp4", http.StatusFound)
			}
		}, "import: it leads to a private, local or reserved address"},
		{"a redirect to the metadata address", func(e *importEnv) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
			}
		}, "import: it leads to a private, local or reserved address"},
		{"too large, declared", func(e *importEnv) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "2000000")
				w.Write(make([]byte, 2000000))
			}
		}, "import: the file is 2000000 bytes, more than the upload limit of 1000000"},
		{"too large, undeclared", func(e *importEnv) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				for range 40 {
					w.Write(make([]byte, 50000))
					w.(http.Flusher).Flush()
				}
			}
		}, "import: the file is larger than the upload limit of 1000000 bytes"},
		{"not found", func(e *importEnv) http.HandlerFunc { return http.NotFound }, "import: the server answered 404 Not Found"},
		{"not a video", func(e *importEnv) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>a web page</html>") }
		}, "talk.mp4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newImportEnv(t, 1_000_000)
			base := e.serve(t, tc.handler(e))
			st, err := e.m.Import(context.Background(), jobs.Submission{Source: base + "/talk.mp4"})
			if err != nil {
				t.Fatal(err)
			}
			st = e.settle(t, st.ID)
			if st.Status != db.StatusFailed || !strings.HasPrefix(st.Error, tc.want) {
				t.Fatalf("%s %q, want failed %q", st.Status, st.Error, tc.want)
			}
			if objs, _ := e.m.UploadStore().List(context.Background(), "uploads/"); len(objs) != 0 {
				t.Fatalf("a refused import stored %v", objs)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
