package db_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgehls/edge/db"
)

func open(t *testing.T) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "edge.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestMigrationsFromEmptyAndRerun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "edge.db")
	ctx := context.Background()
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	must[*db.User](t)(d.CreateUser(ctx, "ana@example.com", "correct horse", db.RoleAdmin))
	d.Close()
	// Re-opening applies nothing twice and keeps the data.
	d, err = db.Open(ctx, path)
	if err != nil {
		t.Fatalf("re-open: %v", err)
	}
	defer d.Close()
	if n := must[int](t)(d.CountUsers(ctx)); n != 1 {
		t.Fatalf("users after re-open = %d", n)
	}
}

func TestUsers(t *testing.T) {
	d, ctx := open(t), context.Background()
	admin := must[*db.User](t)(d.CreateUser(ctx, "ana@example.com", "correct horse", db.RoleAdmin))
	for _, tc := range []struct {
		email, password string
		role            db.Role
		want            error
	}{
		{"ANA@example.com", "correct horse", db.RoleEditor, db.ErrConflict},
		{"not-an-email", "correct horse", db.RoleEditor, db.ErrInvalid},
		{"Ana <x@example.com>", "correct horse", db.RoleEditor, db.ErrInvalid},
		{"bo@example.com", "short", db.RoleEditor, db.ErrInvalid},
		{"bo@example.com", strings.Repeat("x", 80), db.RoleEditor, db.ErrInvalid},
		{"bo@example.com", "correct horse", "owner", db.ErrInvalid},
	} {
		if _, err := d.CreateUser(ctx, tc.email, tc.password, tc.role); !errors.Is(err, tc.want) {
			t.Errorf("CreateUser(%q, %q, %q) = %v, want %v", tc.email, tc.password, tc.role, err, tc.want)
		}
	}
	if u, err := d.Authenticate(ctx, "ana@example.com", "correct horse"); err != nil || u.ID != admin.ID || !u.IsAdmin() {
		t.Fatalf("authenticate: %+v %v", u, err)
	}
	for _, c := range [][2]string{{"ana@example.com", "wrong horse!"}, {"nobody@example.com", "correct horse"}} {
		if _, err := d.Authenticate(ctx, c[0], c[1]); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Authenticate(%q, %q) = %v", c[0], c[1], err)
		}
	}
	editor := must[*db.User](t)(d.CreateUser(ctx, "bo@example.com", "correct horse", db.RoleEditor))
	if err := d.DeleteUser(ctx, admin.ID); !errors.Is(err, db.ErrInvalid) {
		t.Fatalf("deleting the last admin: %v", err)
	}
	if err := d.DeleteUser(ctx, editor.ID); err != nil {
		t.Fatal(err)
	}
	if users := must[[]db.User](t)(d.ListUsers(ctx)); len(users) != 1 {
		t.Fatalf("users: %+v", users)
	}
}

func TestSessions(t *testing.T) {
	d, ctx := open(t), context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d.SetClock(func() time.Time { return now })
	u := must[*db.User](t)(d.CreateUser(ctx, "ana@example.com", "correct horse", db.RoleEditor))
	token, s, err := d.CreateSession(ctx, u.ID, time.Hour)
	if err != nil || s.User.Email != "ana@example.com" || s.CSRFToken == "" || len(token) < 40 {
		t.Fatalf("create: %q %+v %v", token, s, err)
	}
	got := must[*db.Session](t)(d.SessionByToken(ctx, token))
	if got.User.ID != u.ID || got.CSRFToken != s.CSRFToken {
		t.Fatalf("lookup: %+v", got)
	}
	if _, err := d.SessionByToken(ctx, token+"x"); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("wrong token: %v", err)
	}
	now = now.Add(2 * time.Hour)
	if _, err := d.SessionByToken(ctx, token); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("expired session still valid: %v", err)
	}
	token2, _, _ := d.CreateSession(ctx, u.ID, time.Hour)
	d.DeleteSession(ctx, token2)
	if _, err := d.SessionByToken(ctx, token2); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("signed-out session still valid: %v", err)
	}
}

func TestAPITokens(t *testing.T) {
	d, ctx := open(t), context.Background()
	u := must[*db.User](t)(d.CreateUser(ctx, "ana@example.com", "correct horse", db.RoleEditor))
	secret, tok, err := d.CreateAPIToken(ctx, u.ID, "ci")
	if err != nil || !strings.HasPrefix(secret, db.TokenPrefix) || !strings.HasPrefix(secret, tok.Prefix) {
		t.Fatalf("create: %q %+v %v", secret, tok, err)
	}
	if owner := must[*db.User](t)(d.UserByAPIToken(ctx, secret)); owner.ID != u.ID {
		t.Fatalf("owner: %+v", owner)
	}
	if list := must[[]db.APIToken](t)(d.ListAPITokens(ctx, u.ID)); len(list) != 1 || list[0].LastUsedAt.IsZero() {
		t.Fatalf("list: %+v", list)
	}
	if _, _, err := d.CreateAPIToken(ctx, u.ID, "  "); !errors.Is(err, db.ErrInvalid) {
		t.Fatalf("empty name: %v", err)
	}
	if err := d.RevokeAPIToken(ctx, u.ID+1, tok.ID); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("revoking someone else's token: %v", err)
	}
	if err := d.RevokeAPIToken(ctx, u.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UserByAPIToken(ctx, secret); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("revoked token still works: %v", err)
	}
}

func TestStreams(t *testing.T) {
	d, ctx := open(t), context.Background()
	u := must[*db.User](t)(d.CreateUser(ctx, "ana@example.com", "correct horse", db.RoleEditor))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d.SetClock(func() time.Time { now = now.Add(time.Second); return now })
	var ids []string
	for i, title := range []string{"Lecture 1", "Lecture 2", "100% done_x", "Keynote"} {
		s := must[*db.Stream](t)(d.CreateStream(ctx, db.NewStream{Title: title, SourceKey: fmt.Sprintf("uploads/%d/a.mov", i), CreatedBy: u.ID}))
		if len(s.ID) != db.StreamIDLen || s.Status != db.StatusUploading {
			t.Fatalf("created: %+v", s)
		}
		ids = append(ids, s.ID)
	}
	for _, tc := range []struct {
		q      string
		limit  int
		offset int
		want   []string
		total  int
	}{
		{"", 0, 0, []string{"Keynote", "100% done_x", "Lecture 2", "Lecture 1"}, 4},
		{"lecture", 0, 0, []string{"Lecture 2", "Lecture 1"}, 2},
		{"%", 0, 0, []string{"100% done_x"}, 1},
		{"_", 0, 0, []string{"100% done_x"}, 1},
		{"", 2, 2, []string{"Lecture 2", "Lecture 1"}, 4},
		{"nothing", 0, 0, nil, 0},
	} {
		list, total, err := d.ListStreams(ctx, db.StreamFilter{Query: tc.q, Limit: tc.limit, Offset: tc.offset})
		var titles []string
		for _, s := range list {
			titles = append(titles, s.Title)
		}
		if err != nil || total != tc.total || fmt.Sprint(titles) != fmt.Sprint(tc.want) {
			t.Errorf("ListStreams(%q, %d, %d) = %v (%d), %v; want %v (%d)", tc.q, tc.limit, tc.offset, titles, total, err, tc.want, tc.total)
		}
	}
	if err := d.RenameStream(ctx, ids[0], "  Intro  "); err != nil {
		t.Fatal(err)
	}
	if err := d.RenameStream(ctx, ids[0], ""); !errors.Is(err, db.ErrInvalid) {
		t.Fatalf("empty title: %v", err)
	}
	if err := d.SetStreamState(ctx, ids[0], db.StatusProcessing, 101, ""); !errors.Is(err, db.ErrInvalid) {
		t.Fatalf("progress 101: %v", err)
	}
	noErr(t, d.SetStreamState(ctx, ids[0], db.StatusReady, 100, ""))
	noErr(t, d.SetStreamOutput(ctx, ids[0], db.StreamOutput{Duration: 95 * time.Second, Renditions: []string{"720p", "360p"},
		PosterKey: "streams/x/poster.jpg", Width: 720, Height: 1280}))
	s := must[*db.Stream](t)(d.Stream(ctx, ids[0]))
	if s.Title != "Intro" || s.Status != db.StatusReady || s.Progress != 100 || s.Duration != 95*time.Second ||
		fmt.Sprint(s.Renditions) != "[720p 360p]" || s.Width != 720 || s.Height != 1280 || !s.UpdatedAt.After(s.CreatedAt) || s.CreatedBy != u.ID {
		t.Fatalf("after updates: %+v", s)
	}
	must[*db.Job](t)(d.CreateJob(ctx, ids[0], "ffmpeg"))
	if err := d.DeleteStream(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if jobs := must[[]db.Job](t)(d.ListJobs(ctx, ids[0])); len(jobs) != 0 {
		t.Fatal("jobs outlived their stream")
	}
	for _, err := range []error{d.DeleteStream(ctx, ids[0]), d.RenameStream(ctx, "nope", "x")} {
		if !errors.Is(err, db.ErrNotFound) {
			t.Errorf("missing stream: %v", err)
		}
	}
	if _, err := d.Stream(ctx, ids[0]); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("deleted stream: %v", err)
	}
}

// TestConcurrentWriters: WAL plus the busy timeout let writers queue
// instead of failing with "database is locked".
func TestConcurrentWriters(t *testing.T) {
	d, ctx := open(t), context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			if _, err := d.CreateStream(ctx, db.NewStream{Title: fmt.Sprint("s", i)}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCreatedEqualsRead(t *testing.T) {
	d, ctx := open(t), context.Background()
	s := must[*db.Stream](t)(d.CreateStream(ctx, db.NewStream{Title: "x"}))
	got := must[*db.Stream](t)(d.Stream(ctx, s.ID))
	if !got.CreatedAt.Equal(s.CreatedAt) || !got.UpdatedAt.Equal(s.UpdatedAt) {
		t.Fatalf("created %v, read back %v", s.CreatedAt, got.CreatedAt)
	}
}

func TestEmbedDomains(t *testing.T) {
	d, ctx := open(t), context.Background()
	s := must[*db.Stream](t)(d.CreateStream(ctx, db.NewStream{Title: "x"}))
	noErr(t, d.SetEmbedDomains(ctx, s.ID, []string{" Example.com ", "", "*.school.edu", "https://cms.example.org:8443/", "http://localhost:*"}))
	got := must[*db.Stream](t)(d.Stream(ctx, s.ID))
	if fmt.Sprint(got.EmbedDomains) != "[example.com *.school.edu https://cms.example.org:8443 http://localhost:*]" {
		t.Fatalf("domains: %v", got.EmbedDomains)
	}
	for _, bad := range []string{"javascript:alert(1)", "example.com; script-src *", "'self'", "*", "ftp://x.com", "exa mple.com", "https://x.com/path", "HTTP://"} {
		err := d.SetEmbedDomains(ctx, s.ID, []string{" " + bad + " "})
		if !errors.Is(err, db.ErrInvalid) || !strings.Contains(err.Error(), fmt.Sprintf("embed domain %q: want a site", bad)) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	many := make([]string, 51)
	for i := range many {
		many[i] = fmt.Sprintf("site%d.example", i)
	}
	if err := d.SetEmbedDomains(ctx, s.ID, many); !errors.Is(err, db.ErrInvalid) || !strings.Contains(err.Error(), "embed domains: at most 50 sites") {
		t.Errorf("51 sites: %v", err)
	}
	noErr(t, d.SetEmbedDomains(ctx, s.ID, nil))
	if got := must[*db.Stream](t)(d.Stream(ctx, s.ID)); len(got.EmbedDomains) != 0 {
		t.Fatalf("cleared: %v", got.EmbedDomains)
	}
}

func TestQueue(t *testing.T) {
	d, ctx := open(t), context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d.SetClock(func() time.Time { now = now.Add(time.Second); return now })
	first := must[*db.Stream](t)(d.CreateStream(ctx, db.NewStream{Title: "first", Status: db.StatusQueued}))
	second := must[*db.Stream](t)(d.CreateStream(ctx, db.NewStream{Title: "second", Status: db.StatusQueued}))
	must[*db.Stream](t)(d.CreateStream(ctx, db.NewStream{Title: "uploading"}))

	got := must[*db.Stream](t)(d.ClaimNextStream(ctx))
	if got.ID != first.ID || got.Status != db.StatusProcessing {
		t.Fatalf("first claim: %+v", got)
	}
	if got := must[*db.Stream](t)(d.ClaimNextStream(ctx)); got.ID != second.ID {
		t.Fatalf("second claim: %+v", got)
	}
	if _, err := d.ClaimNextStream(ctx); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("empty queue: %v", err)
	}
	// A stop leaves both processing: start-up puts them back.
	if n := must[int](t)(d.RequeueInterrupted(ctx)); n != 2 {
		t.Fatalf("requeued %d", n)
	}
	if s := must[*db.Stream](t)(d.Stream(ctx, first.ID)); s.Status != db.StatusQueued {
		t.Fatalf("after requeue: %s", s.Status)
	}
}

func TestConcurrentClaimsNeverShareAStream(t *testing.T) {
	d, ctx := open(t), context.Background()
	for i := range 20 {
		d.CreateStream(ctx, db.NewStream{Title: fmt.Sprint(i), Status: db.StatusQueued})
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				s, err := d.ClaimNextStream(ctx)
				if err != nil {
					return
				}
				mu.Lock()
				if seen[s.ID] {
					t.Errorf("%s claimed twice", s.ID)
				}
				seen[s.ID] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 20 {
		t.Fatalf("claimed %d of 20", len(seen))
	}
}

// A new password works at once, the old one no longer, and every session
// but the one kept is signed out.
func TestSetPassword(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	u := must[*db.User](t)(d.CreateUser(ctx, "ana@example.com", "old password 1", db.RoleEditor))
	keep, _, err := d.CreateSession(ctx, u.ID, time.Hour)
	noErr(t, err)
	other, _, err := d.CreateSession(ctx, u.ID, time.Hour)
	noErr(t, err)
	if err := d.SetPassword(ctx, u.ID, "short", keep); !errors.Is(err, db.ErrInvalid) {
		t.Fatalf("short password: %v", err)
	}
	if err := d.SetPassword(ctx, u.ID+99, "a long new password", keep); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("unknown account: %v", err)
	}
	noErr(t, d.SetPassword(ctx, u.ID, "a long new password", keep))
	if _, err := d.Authenticate(ctx, "ana@example.com", "old password 1"); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("old password still works: %v", err)
	}
	must[*db.User](t)(d.Authenticate(ctx, "ana@example.com", "a long new password"))
	if _, err := d.SessionByToken(ctx, other); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("the other session survived: %v", err)
	}
	must[*db.Session](t)(d.SessionByToken(ctx, keep))
	noErr(t, d.SetPassword(ctx, u.ID, "yet another password", ""))
	if _, err := d.SessionByToken(ctx, keep); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("a reset left a session: %v", err)
	}
}
