package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// scriptedEdge starts edge with an account and a token and returns a
// caller of its JSON API, as a user's script would use it.
func scriptedEdge(t *testing.T, vars map[string]string) (api func(method, path, body string) map[string]any, base string) {
	t.Helper()
	runCmd(t, vars, "", "user", "add", "--email", "ana@example.com")
	token, _ := runCmd(t, vars, "", "token", "create", "--email", "ana@example.com")
	base, _ = startServe(t, vars)
	return func(method, path, body string) map[string]any {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		json.NewDecoder(resp.Body).Decode(&v)
		return v
	}, base
}

// waitSettled polls a stream until it is ready or failed.
func waitSettled(t *testing.T, api func(method, path, body string) map[string]any, id string, within time.Duration) map[string]any {
	t.Helper()
	var st map[string]any
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if st = api("GET", "/api/v1/streams/"+id, ""); st["status"] == "ready" || st["status"] == "failed" {
			return st
		}
	}
	t.Fatalf("stream %s did not settle: %v", id, st)
	return nil
}
