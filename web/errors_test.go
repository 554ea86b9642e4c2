package web_test

import (
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/edgehls/edge/internal/logtest"
	"github.com/edgehls/edge/web"
)

// TestInternalErrorsShowAnIDNotTheirCause: a failure edge did not word
// for its reader (here, the database gone) reaches the client as a
// message with an error id, and the log line carries the same id with the
// cause, so a report can be matched without showing internals.
func TestInternalErrorsShowAnIDNotTheirCause(t *testing.T) {
	var logs logtest.Buffer
	e := newEnv(t, nil, func(c *web.Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	e.db.Close()
	for _, path := range []string{"/api/v1/streams", "/watch/abc"} { // JSON, then a page
		method := "GET"
		r := e.api(t, method, path, e.token, "")
		if r.code != 500 {
			t.Fatalf("%s %s with the database closed: %d %s", method, path, r.code, r.body)
		}
		m := regexp.MustCompile(`error id ([a-z0-9]{10})`).FindStringSubmatch(r.body)
		if m == nil || strings.Contains(r.body, "sql") || strings.Contains(r.body, "closed") {
			t.Fatalf("%s %s: the body should carry an error id and no internal text: %s", method, path, r.body)
		}
		line := regexp.MustCompile(`(?m)^.*error_id=` + m[1] + `.*$`).FindString(logs.String())
		if !strings.Contains(line, "database is closed") {
			t.Fatalf("%s %s: no log line with error_id=%s and its cause in:\n%s", method, path, m[1], logs.String())
		}
	}
}
