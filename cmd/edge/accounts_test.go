package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/edgehls/edge/db"
)

func runCmd(t *testing.T, vars map[string]string, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, env(vars), strings.NewReader(stdin), &out, &errOut)
	return out.String(), err
}

func TestUserAddAndTokenCreate(t *testing.T) {
	// A data dir that does not exist yet: user add comes before the first serve.
	vars := map[string]string{"EDGE_DATA_DIR": filepath.Join(t.TempDir(), "new", "data")}
	out, err := runCmd(t, vars, "", "user", "add", "--email", "ana@example.com")
	if err != nil || !regexp.MustCompile(`^created admin ana@example.com\npassword: [A-Z2-7]{26}\n`).MatchString(out) {
		t.Fatalf("first user: %q %v", out, err)
	}
	out, err = runCmd(t, vars, "correct horse battery\n", "user", "add", "--email", "bo@example.com", "--password-stdin")
	if err != nil || out != "created editor bo@example.com\n" {
		t.Fatalf("second user: %q %v", out, err)
	}
	for _, tc := range []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"user", "add", "--email", "ANA@example.com"}, "", "already exists"},
		{[]string{"user", "add", "--email", "x@example.com", "--password-stdin"}, "short\n", "at least 10 characters"},
		{[]string{"user", "add", "--email", "x@example.com", "--password-stdin"}, "", "no password on standard input"},
		{[]string{"user", "add", "--email", "x@example.com", "--role", "root"}, "", "want admin or editor"},
		{[]string{"user", "add"}, "", "--email is required"},
		{[]string{"token", "create", "--email", "nobody@example.com"}, "", "no account nobody@example.com"},
		{[]string{"user", "remove"}, "", `unknown command "user remove"`},
	} {
		if _, err := runCmd(t, vars, tc.stdin, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}

	token, err := runCmd(t, vars, "", "token", "create", "--email", "bo@example.com", "--name", "ci")
	token = strings.TrimSpace(token)
	if err != nil || !regexp.MustCompile(`^edge_[0-9A-Za-z]{40}$`).MatchString(token) {
		t.Fatalf("token: %q %v", token, err)
	}

	// A script with that token lists and creates streams on a running edge.
	media := filepath.Join(vars["EDGE_DATA_DIR"], "media", "uploads")
	os.MkdirAll(media, 0o755)
	os.WriteFile(filepath.Join(media, "talk.mp4"), []byte("x"), 0o644)
	base, _ := startServe(t, vars)
	for _, req := range []struct {
		method, body string
		code         int
		has          string
	}{
		{"POST", `{"source":"uploads/talk.mp4"}`, 201, `"title":"talk"`},
		{"GET", "", 200, `"total":1`},
	} {
		r, _ := http.NewRequest(req.method, base+"/api/v1/streams", strings.NewReader(req.body))
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != req.code || !strings.Contains(string(b), req.has) {
			t.Fatalf("%s /api/v1/streams: %d %s", req.method, resp.StatusCode, b)
		}
	}
}

// TestFirstRunLogsASetupLink: with no account the log carries a plain,
// copyable link; once an account exists there is none.
func TestFirstRunLogsASetupLink(t *testing.T) {
	d, err := openDB(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	token, err := firstRunSetup(context.Background(), d, "http://localhost:8080", log)
	if err != nil || token == "" || !strings.Contains(logs.String(), " setup_url=http://localhost:8080/setup/"+token+"\n") {
		t.Fatalf("first run: %q %v\n%s", token, err, logs.String())
	}
	d.CreateUser(context.Background(), "ana@example.com", "correct horse", "admin")
	logs.Reset()
	if token, err := firstRunSetup(context.Background(), d, "http://localhost:8080", log); token != "" || err != nil || logs.Len() != 0 {
		t.Fatalf("with an account: %q %v %q", token, err, logs.String())
	}
}

// TestUserUnlock: an account locked by guesses from everywhere signs in
// again at once after `edge user unlock`, which the running edge sees
// because the counts live in the database.
func TestUserUnlock(t *testing.T) {
	vars := map[string]string{"EDGE_DATA_DIR": t.TempDir()}
	if _, err := runCmd(t, vars, "", "user", "add", "--email", "ana@example.com"); err != nil {
		t.Fatal(err)
	}
	d, err := openDB(context.Background(), vars["EDGE_DATA_DIR"])
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	for _, key := range []string{db.AccountKey("ana@example.com"), db.AccountAddressKey("ana@example.com", "192.0.2.1"),
		db.AccountAddressKey("anal@example.com", "192.0.2.1"), db.AddressKey("192.0.2.1")} {
		d.AddSignInFailure(ctx, key)
	}
	out, err := runCmd(t, vars, "", "user", "unlock", "--email", "Ana@Example.com")
	if err != nil || out != "unlocked ana@example.com (2 failed sign-ins forgotten)\n" {
		t.Fatalf("unlock: %q %v", out, err)
	}
	if n, _, _ := d.CountSignInFailures(ctx, db.AccountAddressKey("anal@example.com", "192.0.2.1"), time.Time{}); n != 1 {
		t.Fatal("another account's failures were forgotten too")
	}
	if _, err := runCmd(t, vars, "", "user", "unlock", "--email", "nobody@example.com"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("unknown account: %v", err)
	}
}

// TestUserPasswd: a forgotten password is replaced from the command line,
// generated or from stdin; the account's sessions end.
func TestUserPasswd(t *testing.T) {
	vars := map[string]string{"EDGE_DATA_DIR": t.TempDir()}
	runCmd(t, vars, "", "user", "add", "--email", "ana@example.com")
	out, err := runCmd(t, vars, "", "user", "passwd", "--email", "ana@example.com")
	m := regexp.MustCompile(`password: ([A-Z2-7]{26})\n`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("passwd: %q %v", out, err)
	}
	d, err := openDB(context.Background(), vars["EDGE_DATA_DIR"])
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Authenticate(context.Background(), "ana@example.com", m[1]); err != nil {
		t.Fatalf("generated password: %v", err)
	}
	if out, err := runCmd(t, vars, "chosen password 42\n", "user", "passwd", "--email", "ana@example.com", "--password-stdin"); err != nil || strings.Contains(out, "password:") {
		t.Fatalf("from stdin: %q %v", out, err)
	}
	if _, err := d.Authenticate(context.Background(), "ana@example.com", "chosen password 42"); err != nil {
		t.Fatalf("chosen password: %v", err)
	}
	for _, tc := range []struct{ stdin, email, want string }{
		{"", "nobody@example.com", "user passwd: no account nobody@example.com (add one with `edge user add`)"},
		{"short\n", "ana@example.com", "user passwd: password: at least 10 characters"},
		{"", "", "user passwd: --email is required"},
	} {
		args := []string{"user", "passwd", "--email", tc.email}
		if tc.stdin != "" {
			args = append(args, "--password-stdin")
		}
		if _, err := runCmd(t, vars, tc.stdin, args...); err == nil || err.Error() != tc.want {
			t.Errorf("%v: %v, want %q", args, err, tc.want)
		}
	}
}
