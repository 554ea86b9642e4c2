package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/proxytest"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/proxy"
	"github.com/edgehls/edge/storage"
	"github.com/edgehls/edge/storage/storagetest"
	"github.com/edgehls/edge/web"
)

// env is a whole edge on 127.0.0.1: real SQLite, a real folder store.
type env struct {
	server  *web.Server
	srv     *httptest.Server
	db      *db.DB
	store   storage.Store
	uploads storage.Store // where uploads land: store, unless an option changed it
	token   string        // an editor's API token
	user    *db.User
	// intercept, when set, sees each request first and may answer it
	// itself (true), as a flaky network in front of edge would.
	intercept atomic.Pointer[func(http.ResponseWriter, *http.Request) bool]
}

func newEnv(t *testing.T, objects map[string]string, opts ...func(*web.Config)) *env {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "edge.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	store := storagetest.NewFileStore(t, objects)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cache := proxytest.New(t, proxy.Config{Origin: store, Logger: log})
	cfg := web.Config{
		Proxy: cache, DB: d,
		Jobs: &jobs.Manager{DB: d, Store: store, Log: log, Cache: cache}, PublicURL: "https://edge.example", Logger: log,
		UploadStaging: t.TempDir(), MaxUploadBytes: 64 << 20,
	}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{server: s, db: d, store: store, uploads: cfg.Jobs.UploadStore()}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := e.intercept.Load(); f != nil && (*f)(w, r) {
			return
		}
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	u, err := d.CreateUser(ctx, "ed@example.com", "correct horse", db.RoleEditor)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := d.CreateAPIToken(ctx, u.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	e.srv, e.token, e.user = srv, token, u
	return e
}

type apiResponse struct {
	code   int
	header http.Header
	body   string
}

func (e *env) api(t *testing.T, method, path, token, body string) apiResponse {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return apiResponse{resp.StatusCode, resp.Header, string(b)}
}

func decode(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
}

type errorBody struct {
	Error struct{ Code, Message string } `json:"error"`
}

// browser is an HTTP client with a cookie jar that shows redirects instead
// of following them, like a person watching the address bar.
type browser struct {
	t      *testing.T
	client *http.Client
	base   string
}

func (e *env) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: e.srv.URL, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type page struct {
	code   int
	header http.Header
	body   string
}

func (b *browser) get(path string) page {
	b.t.Helper()
	return b.do("GET", path, nil, nil)
}

func (b *browser) post(path string, form url.Values, hdr map[string]string) page {
	b.t.Helper()
	return b.do("POST", path, form, hdr)
}

func (b *browser) do(method, path string, form url.Values, hdr map[string]string) page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header, string(out)}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the hidden CSRF field of a page's form.
func (p page) csrf(t *testing.T) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no csrf field in:\n%s", p.body)
	}
	return m[1]
}

// signIn signs the browser in and returns the session's CSRF token.
func (b *browser) signIn(email, password string) string {
	b.t.Helper()
	form := b.get("/signin")
	r := b.post("/signin", url.Values{"csrf": {form.csrf(b.t)}, "email": {email}, "password": {password}}, nil)
	if r.code != http.StatusSeeOther {
		b.t.Fatalf("sign in: %d %s", r.code, r.body)
	}
	return b.get("/").csrf(b.t)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
