package web_test

import (
	"strings"
	"testing"
)

func TestUsersThroughTheAPI(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.adminToken(t)
	if r := e.api(t, "GET", "/api/v1/users", e.token, ""); r.code != 403 {
		t.Fatalf("an editor lists users: %d", r.code)
	}
	r := e.api(t, "POST", "/api/v1/users", admin, `{"email":"Bea@Example.com","role":"editor"}`)
	var u struct {
		ID       int64  `json:"id"`
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	decode(t, r.body, &u)
	if r.code != 201 || u.Password == "" {
		t.Fatalf("add: %d %s", r.code, r.body)
	}
	e.browser(t).signIn(u.Email, u.Password) // the password given works
	if list := e.api(t, "GET", "/api/v1/users", admin, ""); list.code != 200 || strings.Contains(list.body, "password") || !strings.Contains(list.body, u.Email) {
		t.Fatalf("list: %d %s", list.code, list.body)
	}
	if r := e.api(t, "POST", "/api/v1/users", admin, `{"email":"`+u.Email+`"}`); r.code != 409 {
		t.Fatalf("the same email again: %d", r.code)
	}
	if r := e.api(t, "POST", "/api/v1/users", admin, `{"email":"x@example.com","role":"owner"}`); r.code != 422 {
		t.Fatalf("an unknown role: %d %s", r.code, r.body)
	}
	if r := e.api(t, "DELETE", "/api/v1/users/"+itoa(u.ID), admin, ""); r.code != 204 {
		t.Fatalf("remove: %d %s", r.code, r.body)
	}
	if r := e.api(t, "DELETE", "/api/v1/users/"+itoa(u.ID), admin, ""); r.code != 404 {
		t.Fatalf("removed twice: %d", r.code)
	}
}
