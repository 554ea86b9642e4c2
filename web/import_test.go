package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/hlstest"
	"github.com/edgehls/edge/internal/waitfor"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/web"
)

// withImports lets imports fetch from 127.0.0.1, where the tests' media
// server runs, as EDGE_IMPORT_ALLOW=127.0.0.1/32 would.
func withImports(c *web.Config) {
	c.Jobs.Importer = &jobs.Importer{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, MaxBytes: 64 << 20}
	c.Jobs.TempDir = os.TempDir()
}

func mediaServer(t *testing.T) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "keynote.mp4")
	hlstest.MakeSource(t, src, 2, "320x240", true)
	srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Dir(src))))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestImportThroughTheAPI(t *testing.T) {
	e := newEnv(t, nil, withImports)
	media := mediaServer(t)
	r := e.api(t, "POST", "/api/v1/streams", e.token, `{"url":"`+media+`/keynote.mp4"}`)
	var st struct {
		ID, Title string
		Status    db.Status
	}
	decode(t, r.body, &st)
	if r.code != http.StatusCreated || st.Title != "keynote" || st.Status != db.StatusUploading {
		t.Fatalf("import: %d %s", r.code, r.body)
	}
	waitfor.True(t, "the imported stream to be queued", func() bool {
		s, _ := e.db.Stream(context.Background(), st.ID)
		return s.Status == db.StatusQueued
	})
	for _, tc := range []struct{ body, want string }{
		{`{"url":"http://10.0.0.1/a.mp4"}`, "url: 10.0.0.1 is a private, local or reserved address"},
		{`{"url":"gopher://example.com/a"}`, `url: scheme "gopher" is not supported`},
		{`{"url":"` + media + `/keynote.mp4","source":"uploads/x.mp4"}`, "url: send a url or a source, not both"},
	} {
		r := e.api(t, "POST", "/api/v1/streams", e.token, tc.body)
		var eb errorBody
		decode(t, r.body, &eb)
		if r.code != 422 || !strings.HasPrefix(eb.Error.Message, tc.want) {
			t.Errorf("%s: %d %q", tc.body, r.code, eb.Error.Message)
		}
	}
}

func TestImportFromTheUploadPage(t *testing.T) {
	e := newEnv(t, nil, withImports)
	media := mediaServer(t)
	b := e.browser(t)
	csrf := b.signIn("ed@example.com", "correct horse")
	r := b.post("/videos/import", url.Values{"csrf": {csrf}, "url": {"http://169.254.169.254/latest/"}, "title": {"Meta"}}, nil)
	if r.code != 422 || !strings.Contains(r.body, "private, local or reserved address") || !strings.Contains(r.body, `value="http://169.254.169.254/latest/"`) {
		t.Fatalf("refused link: %d\n%s", r.code, r.body)
	}
	r = b.post("/videos/import", url.Values{"csrf": {csrf}, "url": {media + "/keynote.mp4"}, "title": {"Keynote 2026"}}, nil)
	loc := r.header.Get("Location")
	if r.code != http.StatusSeeOther || !strings.HasPrefix(loc, "/videos/") {
		t.Fatalf("import: %d %q", r.code, loc)
	}
	id := strings.TrimPrefix(loc, "/videos/")
	waitfor.True(t, "the imported stream to be queued", func() bool {
		s, _ := e.db.Stream(context.Background(), id)
		return s.Status == db.StatusQueued && s.Title == "Keynote 2026"
	})
}
