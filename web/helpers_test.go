package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/proxy"
	"github.com/edgehls/edge/storage"
	"github.com/edgehls/edge/storage/storagetest"
	"github.com/edgehls/edge/web"
)

// env is a whole edge on 127.0.0.1: real SQLite, a real folder store.
type env struct {
	srv   *httptest.Server
	db    *db.DB
	store storage.Store
	token string // an editor's API token
	user  *db.User
}

func newEnv(t *testing.T, objects map[string]string) *env {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "edge.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	store := storagetest.NewFileStore(t, objects)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := web.New(web.Config{
		Proxy: proxy.New(proxy.Config{Origin: store, Logger: log}), DB: d,
		Jobs: &jobs.Manager{DB: d, Store: store, Log: log}, PublicURL: "https://edge.example", Logger: log,
	})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	u, err := d.CreateUser(ctx, "ed@example.com", "correct horse", db.RoleEditor)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := d.CreateAPIToken(ctx, u.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, db: d, store: store, token: token, user: u}
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
