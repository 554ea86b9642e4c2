package web_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/edgehls/edge/db"
)

func TestTokensPage(t *testing.T) {
	e := newEnv(t, nil)
	b := e.browser(t)
	csrf := b.signIn("ed@example.com", "correct horse")
	if r := b.post("/tokens", url.Values{"csrf": {csrf}, "name": {" "}}, nil); r.code != 422 {
		t.Fatalf("empty name: %d", r.code)
	}
	if r := b.post("/tokens", url.Values{"csrf": {csrf}, "name": {"upload script"}}, nil); r.code != 303 {
		t.Fatalf("create: %d", r.code)
	}
	shown := b.get("/tokens")
	m := regexp.MustCompile(`id="new-token" class="code" type="text" readonly value="(edge_[0-9A-Za-z]+)"`).FindStringSubmatch(shown.body)
	if m == nil || !strings.Contains(shown.body, "upload script") {
		t.Fatalf("new token not shown:\n%s", shown.body)
	}
	if again := b.get("/tokens"); strings.Contains(again.body, m[1]) {
		t.Fatal("the secret is shown twice")
	}
	if r := e.api(t, "GET", "/api/v1/streams", m[1], ""); r.code != 200 {
		t.Fatalf("new token refused: %d", r.code)
	}
	list, _ := e.db.ListAPITokens(context.Background(), e.user.ID)
	var id int64
	for _, tok := range list {
		if tok.Name == "upload script" {
			id = tok.ID
		}
	}
	if r := b.post("/tokens/"+itoa(id)+"/revoke", url.Values{"csrf": {csrf}}, nil); r.code != 303 {
		t.Fatalf("revoke: %d", r.code)
	}
	if r := e.api(t, "GET", "/api/v1/streams", m[1], ""); r.code != 401 {
		t.Fatalf("revoked token accepted: %d", r.code)
	}
}

func TestUsersPageIsForAdmins(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.db.CreateUser(ctx, "boss@example.com", "correct horse", db.RoleAdmin)

	editor := e.browser(t)
	csrf := editor.signIn("ed@example.com", "correct horse")
	if strings.Contains(editor.get("/").body, `href="/users"`) {
		t.Error("editors see the Users link")
	}
	for _, r := range []page{editor.get("/users"), editor.post("/users", url.Values{"csrf": {csrf}, "email": {"x@example.com"}, "role": {"admin"}}, nil)} {
		if r.code != 403 {
			t.Errorf("editor on /users: %d", r.code)
		}
	}
	if _, err := e.db.UserByEmail(ctx, "x@example.com"); err == nil {
		t.Fatal("an editor added a user")
	}

	admin := e.browser(t)
	acsrf := admin.signIn("boss@example.com", "correct horse")
	if r := admin.post("/users", url.Values{"csrf": {acsrf}, "email": {"ed@example.com"}, "role": {"editor"}}, nil); r.code != 409 {
		t.Fatalf("duplicate user: %d", r.code)
	}
	if r := admin.post("/users", url.Values{"csrf": {acsrf}, "email": {"new@example.com"}, "role": {"editor"}}, nil); r.code != 303 {
		t.Fatalf("add user: %d", r.code)
	}
	m := regexp.MustCompile(`id="new-password" class="code" type="text" readonly value="([A-Z2-7]{26})"`).FindStringSubmatch(admin.get("/users").body)
	if m == nil {
		t.Fatal("generated password not shown")
	}
	e.browser(t).signIn("new@example.com", m[1]) // the new user can sign in with it

	me, _ := e.db.UserByEmail(ctx, "boss@example.com")
	if r := admin.post("/users/"+itoa(me.ID)+"/remove", url.Values{"csrf": {acsrf}}, nil); r.code != 422 {
		t.Fatalf("removing yourself: %d", r.code)
	}
	if r := admin.post("/users/"+itoa(e.user.ID)+"/remove", url.Values{"csrf": {acsrf}}, nil); r.code != 303 {
		t.Fatalf("remove: %d", r.code)
	}
	if r := editor.get("/"); r.code != 303 {
		t.Fatalf("removed user's session still works: %d", r.code)
	}
	if r := e.api(t, "GET", "/api/v1/streams", e.token, ""); r.code != 401 {
		t.Fatalf("removed user's token still works: %d", r.code)
	}
}

// Changing your own password needs the current one, signs your other
// sessions out and keeps this one; an admin's reset shows a new password
// once and signs that account out everywhere.
func TestPasswordChangeAndReset(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.db.CreateUser(ctx, "boss@example.com", "correct horse", db.RoleAdmin)
	laptop, phone := e.browser(t), e.browser(t)
	csrf := laptop.signIn("ed@example.com", "correct horse")
	phone.signIn("ed@example.com", "correct horse")
	if r := laptop.get("/account"); r.code != 200 || !strings.Contains(r.body, "Change your password") {
		t.Fatalf("account page: %d", r.code)
	}
	for _, tc := range []struct{ current, password, confirm, want string }{
		{"wrong horse", "a new password 1", "a new password 1", "current password: that is not your password"},
		{"correct horse", "a new password 1", "a new password 2", "new password: the two entries differ"},
		{"correct horse", "short", "short", "new password: at least 10 characters"},
	} {
		r := laptop.post("/account/password", url.Values{"csrf": {csrf}, "current": {tc.current}, "password": {tc.password}, "confirm": {tc.confirm}}, nil)
		if r.code != 422 || !strings.Contains(r.body, tc.want) {
			t.Errorf("%+v: %d, want %q", tc, r.code, tc.want)
		}
	}
	if phone.get("/").code != 200 {
		t.Fatal("a refused change signed the other session out")
	}
	r := laptop.post("/account/password", url.Values{"csrf": {csrf}, "current": {"correct horse"}, "password": {"a new password 1"}, "confirm": {"a new password 1"}}, nil)
	if r.code != 303 {
		t.Fatalf("change: %d %s", r.code, r.body)
	}
	if laptop.get("/").code != 200 || phone.get("/").code != 303 {
		t.Fatal("want this session kept and the other signed out")
	}
	if r := e.api(t, "GET", "/api/v1/streams", e.token, ""); r.code != 200 {
		t.Fatalf("the API token stopped working: %d", r.code)
	}
	e.browser(t).signIn("ed@example.com", "a new password 1")

	admin := e.browser(t)
	acsrf := admin.signIn("boss@example.com", "correct horse")
	if r := laptop.post("/users/"+itoa(e.user.ID)+"/password", url.Values{"csrf": {csrf}}, nil); r.code != 403 {
		t.Fatalf("an editor resets a password: %d", r.code)
	}
	if r := admin.post("/users/"+itoa(e.user.ID)+"/password", url.Values{"csrf": {acsrf}}, nil); r.code != 303 {
		t.Fatalf("reset: %d", r.code)
	}
	m := regexp.MustCompile(`Password for ed@example.com: .*?id="new-password" class="code" type="text" readonly value="([A-Z2-7]{26})"`).FindStringSubmatch(admin.get("/users").body)
	if m == nil {
		t.Fatal("the reset password is not shown")
	}
	if laptop.get("/").code != 303 {
		t.Fatal("the reset left the account signed in")
	}
	e.browser(t).signIn("ed@example.com", m[1])

	// The same through the API, for an admin's script.
	boss, _ := e.db.UserByEmail(ctx, "boss@example.com")
	token, _, _ := e.db.CreateAPIToken(ctx, boss.ID, "admin script")
	ar := e.api(t, "POST", "/api/v1/users/"+itoa(e.user.ID)+"/password", token, "")
	var reset struct{ Password string }
	decode(t, ar.body, &reset)
	if ar.code != 200 || len(reset.Password) != 26 || ar.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("API reset: %d %s", ar.code, ar.body)
	}
	e.browser(t).signIn("ed@example.com", reset.Password)
	if r := e.api(t, "POST", "/api/v1/users/"+itoa(boss.ID)+"/password", e.token, ""); r.code != 403 {
		t.Fatalf("an editor's token resets a password: %d", r.code)
	}
}
