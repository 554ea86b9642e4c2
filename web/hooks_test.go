package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/edgehls/edge/web"
)

// tokenHooks takes one stream's webhook with one token.
type tokenHooks struct{ stream, token string }

func (h tokenHooks) Hook(stream, token string) bool { return stream == h.stream && token == h.token }

func TestIttybitHookRoute(t *testing.T) {
	withHooks := newEnv(t, nil, func(c *web.Config) { c.Hooks = tokenHooks{"s1", "t0ken"} })
	ffmpegOnly := newEnv(t, nil)
	for _, tc := range []struct {
		name string
		e    *env
		path string
		code int
	}{
		{"right token", withHooks, "/hooks/ittybit/s1/t0ken", 204},
		{"wrong token", withHooks, "/hooks/ittybit/s1/guess", 404},
		{"another stream's", withHooks, "/hooks/ittybit/s2/t0ken", 404},
		{"no token", withHooks, "/hooks/ittybit/s1", 404},
		{"transcoder without webhooks", ffmpegOnly, "/hooks/ittybit/s1/t0ken", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(tc.e.srv.URL+tc.path, "application/json", strings.NewReader(`{"status":"succeeded"}`))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.code {
				t.Fatalf("POST %s: %d, want %d", tc.path, resp.StatusCode, tc.code)
			}
			if tc.code == 404 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("error answered as %s, want JSON", resp.Header.Get("Content-Type"))
			}
		})
	}
}
