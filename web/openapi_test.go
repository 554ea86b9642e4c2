package web_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/edgehls/edge/internal/waitfor"
	"github.com/edgehls/edge/internal/webhooktest"
)

// openAPIValidator reads the document edge serves with libopenapi and
// checks it against the OpenAPI 3.1 schema.
func openAPIValidator(t *testing.T, e *env) validator.Validator {
	t.Helper()
	code, body := e.fetch(t, "/api/v1/openapi.json")
	if code != 200 {
		t.Fatalf("openapi.json: %d", code)
	}
	doc, err := libopenapi.NewDocument([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, ve := range verrs {
			t.Errorf("document: %s: %s", ve.Message, ve.Reason)
		}
		t.FailNow()
	}
	return v
}

var echoParam = regexp.MustCompile(`:([a-z_]+)`)

// The document names exactly the API's routes, method by method.
func TestOpenAPIMatchesTheRoutes(t *testing.T) {
	e := newEnv(t, nil)
	openAPIValidator(t, e)
	doc, err := libopenapi.NewDocument(mustRead(t, "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().FromOldest() {
			documented = append(documented, strings.ToUpper(method)+" /api/v1"+path)
		}
	}
	var routed []string
	for _, r := range e.server.Routes() {
		if strings.HasPrefix(r[1], "/api/v1/") && r[0] != "echo_route_not_found" { // Echo's pseudo-route for a 404 in a group
			routed = append(routed, r[0]+" "+echoParam.ReplaceAllString(r[1], "{$1}"))
		}
	}
	slices.Sort(documented)
	slices.Sort(routed)
	routed = slices.Compact(routed)
	if !slices.Equal(documented, routed) {
		t.Fatalf("documented:\n%s\nrouted:\n%s", strings.Join(documented, "\n"), strings.Join(routed, "\n"))
	}
}

// Real answers of the API, a script's session from creation to delete,
// are what the document says, by libopenapi-validator.
func TestAPIAnswersMatchOpenAPI(t *testing.T) {
	e := newWebhookEnv(t)
	v := openAPIValidator(t, e)
	admin := e.adminToken(t)
	rcv := webhooktest.NewReceiver(t)
	r := e.api(t, "POST", "/api/v1/webhooks", admin, `{"url":"`+rcv.URL+`"}`)
	var hook webhookAnswer
	decode(t, r.body, &hook)
	id := e.streamWithPackage(t, "signed")
	hookPath := "/api/v1/webhooks/" + itoa(hook.ID)
	talk := playableStream(t, e, "Talk")
	if r := e.putCaptions(t, talk.ID, "en", "", englishSRT); r.code != http.StatusOK {
		t.Fatalf("captions: %d %s", r.code, r.body)
	}
	waitfor.True(t, "a delivery", func() bool { return len(rcv.Got()) > 0 })
	calls := []struct{ method, path, token, body string }{
		{"GET", "/api/v1/streams?limit=10", e.token, ""},
		{"GET", "/api/v1/streams/" + id, e.token, ""},
		{"PATCH", "/api/v1/streams/" + id, e.token, `{"title":"Renamed","allowed_domains":["example.com"]}`},
		{"PATCH", "/api/v1/streams/" + id, e.token, `{"playback_policy":"nope"}`},
		{"POST", "/api/v1/streams/" + id + "/tokens", e.token, `{"ttl":60,"kind":"video"}`},
		{"POST", "/api/v1/streams", e.token, `{"title":"For upload"}`},
		{"POST", "/api/v1/streams", e.token, `{"source":"uploads/none.mp4"}`},
		{"POST", "/api/v1/signing-keys", admin, `{"name":"cms"}`},
		{"GET", "/api/v1/signing-keys", e.token, ""},
		{"GET", "/api/v1/streams/nosuch", e.token, ""},
		{"GET", "/api/v1/streams/" + talk.ID + "/captions", e.token, ""},
		{"POST", "/api/v1/streams/" + talk.ID + "/poster", e.token, `{"time":2.5}`},
		{"POST", "/api/v1/streams/" + talk.ID + "/poster", e.token, `{"time":99}`},
		{"DELETE", "/api/v1/streams/" + talk.ID + "/captions/en", e.token, ""},
		{"DELETE", "/api/v1/streams/" + talk.ID + "/captions/en", e.token, ""},
		{"POST", "/api/v1/users", admin, `{"email":"new@example.com"}`},
		{"POST", "/api/v1/users", admin, `{"email":"new@example.com"}`},
		{"POST", "/api/v1/users", admin, `{"email":"not an email"}`},
		{"GET", "/api/v1/users", admin, ""},
		{"GET", "/api/v1/users", e.token, ""},
		{"POST", "/api/v1/users/" + itoa(e.user.ID) + "/password", admin, ""},
		{"POST", "/api/v1/users/" + itoa(e.user.ID) + "/password", e.token, ""},
		{"DELETE", "/api/v1/users/" + itoa(e.user.ID), admin, ""},
		{"POST", "/api/v1/webhooks", admin, `{"url":"http://10.0.0.1/hooks"}`},
		{"POST", "/api/v1/webhooks", admin, `{"url":"` + rcv.URL + `","description":"second"}`},
		{"GET", "/api/v1/webhooks", admin, ""},
		{"GET", hookPath, admin, ""},
		{"GET", hookPath + "/deliveries?limit=5", admin, ""},
		{"POST", hookPath + "/deliveries/1/redeliver", admin, ""},
		{"POST", hookPath + "/deliveries/999/redeliver", admin, ""},
		{"DELETE", hookPath, admin, ""},
		{"GET", hookPath, admin, ""},
		{"GET", "/api/v1/streams", "", ""},
		{"POST", "/api/v1/streams/" + id + "/purge", e.token, ""},
		{"DELETE", "/api/v1/streams/" + id, e.token, ""},
	}
	for _, c := range calls {
		req, _ := http.NewRequest(c.method, e.srv.URL+c.path, strings.NewReader(c.body))
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		check, _ := http.NewRequest(c.method, "/api/v1"+strings.TrimPrefix(c.path, "/api/v1"), strings.NewReader(c.body))
		check.Header = req.Header
		if ok, errs := v.ValidateHttpResponse(check, resp); !ok {
			for _, ve := range errs {
				t.Errorf("%s %s → %d %s: %s: %s", c.method, c.path, resp.StatusCode, body, ve.Message, ve.Reason)
			}
		}
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
