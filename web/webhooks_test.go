package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgehls/edge/internal/waitfor"
	"github.com/edgehls/edge/internal/webhooktest"
	"github.com/edgehls/edge/web"
	"github.com/edgehls/edge/webhooks"
)

// newWebhookEnv is an edge whose outgoing webhooks run, and may reach a
// receiver on 127.0.0.1 (as EDGE_WEBHOOK_ALLOW=127.0.0.0/8 would let them).
func newWebhookEnv(t *testing.T) *env {
	t.Helper()
	disp := &webhooks.Dispatcher{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Poll: 20 * time.Millisecond,
		Backoff: []time.Duration{20 * time.Millisecond, time.Hour}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	e := newEnv(t, nil, func(c *web.Config) { c.Webhooks = disp; disp.DB = c.DB })
	disp.Payload = e.server.StreamPayload
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { disp.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return e
}

type webhookAnswer struct {
	ID     int64    `json:"id"`
	URL    string   `json:"url"`
	Secret string   `json:"secret"`
	Events []string `json:"events"`
}

type deliveryAnswer struct {
	ID        int64  `json:"id"`
	WebhookID string `json:"webhook_id"`
	Event     string `json:"event"`
	State     string `json:"state"`
	Codes     []int  `json:"codes"`
}

// A CMS registers its endpoint through the API, learns from a signed
// webhook that its stream is ready (the stream as the API shows it), reads
// the delivery log and has a delivery sent again.
func TestWebhooksThroughTheAPI(t *testing.T) {
	e := newWebhookEnv(t)
	admin := e.adminToken(t)
	rcv := webhooktest.NewReceiver(t)
	var refused sync.Once
	rcv.Answer = func(_ int, d webhooktest.Delivery) int { // the first stream.created is answered 500
		code := 200
		if strings.Contains(d.Body, `"type":"stream.created"`) {
			refused.Do(func() { code = 500 })
		}
		return code
	}

	for _, tc := range []struct{ body, want string }{
		{`{"url":"http://10.0.0.7/hooks"}`, "url: 10.0.0.7 is a private, local or reserved address"},
		{`{"url":"http://169.254.169.254/latest"}`, "url: 169.254.169.254 is a private, local or reserved address"},
		{`{"url":"ftp://cms.example.com/hooks"}`, `url: scheme "ftp" is not supported`},
		{`{"url":""}`, "url: not a URL edge can reach"},
	} {
		r := e.api(t, "POST", "/api/v1/webhooks", admin, tc.body)
		var eb errorBody
		decode(t, r.body, &eb)
		if r.code != http.StatusUnprocessableEntity || !strings.HasPrefix(eb.Error.Message, tc.want) {
			t.Errorf("%s: %d %s, want 422 %q", tc.body, r.code, r.body, tc.want)
		}
	}
	if r := e.api(t, "POST", "/api/v1/webhooks", e.token, `{"url":"`+rcv.URL+`"}`); r.code != http.StatusForbidden {
		t.Fatalf("an editor adds an endpoint: %d", r.code)
	}
	r := e.api(t, "POST", "/api/v1/webhooks", admin, `{"url":"`+rcv.URL+`","description":"cms"}`)
	var hook webhookAnswer
	decode(t, r.body, &hook)
	if r.code != http.StatusCreated || !strings.HasPrefix(hook.Secret, "whsec_") || len(hook.Events) != 4 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	if r := e.api(t, "GET", "/api/v1/webhooks", admin, ""); strings.Contains(r.body, hook.Secret) {
		t.Fatal("the list shows the secret again")
	}

	id := e.streamWithPackage(t, "public") // created, then ready
	waitfor.True(t, "created (after one 500) and ready", func() bool { return len(rcv.Got()) >= 3 })
	verified := webhooktest.Verify(t, hook.Secret, rcv.Got())
	var ready *webhooktest.Verified
	for i, v := range verified {
		if v.Problem != "" {
			t.Fatalf("reference library refuses delivery %d: %s", i, v.Problem)
		}
		if v.Type == "stream.ready" {
			ready = &verified[i]
		}
	}
	if ready == nil || ready.Data["id"] != id || ready.Data["status"] != "ready" ||
		ready.Data["master_url"] != "https://edge.example/streams/"+id+"/master.m3u8" || ready.Data["duration"] != 4.0 {
		t.Fatalf("ready event: %+v", ready)
	}

	var log struct{ Deliveries []deliveryAnswer }
	waitfor.True(t, "both delivered in the log", func() bool {
		decode(t, e.api(t, "GET", "/api/v1/webhooks/"+itoa(hook.ID)+"/deliveries", admin, "").body, &log)
		return len(log.Deliveries) == 2 && log.Deliveries[0].State == "delivered" && log.Deliveries[1].State == "delivered"
	})
	created := log.Deliveries[1]
	if created.Event != "stream.created" || !slices.Equal(created.Codes, []int{500, 200}) {
		t.Fatalf("created delivery %+v: want 500 then 200", created)
	}
	r = e.api(t, "POST", "/api/v1/webhooks/"+itoa(hook.ID)+"/deliveries/"+itoa(created.ID)+"/redeliver", admin, "")
	if r.code != http.StatusAccepted {
		t.Fatalf("redeliver: %d %s", r.code, r.body)
	}
	waitfor.True(t, "the redelivery", func() bool { return len(rcv.Got()) == 4 })
	if got := rcv.Got()[3].Headers["webhook-id"]; got != created.WebhookID {
		t.Fatalf("redelivered as %s, want the same webhook-id %s", got, created.WebhookID)
	}
	if r := e.api(t, "POST", "/api/v1/webhooks/"+itoa(hook.ID)+"/deliveries/999/redeliver", admin, ""); r.code != http.StatusNotFound {
		t.Fatalf("redeliver a delivery that is not there: %d", r.code)
	}
	if r := e.api(t, "DELETE", "/api/v1/webhooks/"+itoa(hook.ID), admin, ""); r.code != http.StatusNoContent {
		t.Fatalf("delete: %d", r.code)
	}
	if r := e.api(t, "GET", "/api/v1/webhooks/"+itoa(hook.ID), admin, ""); r.code != http.StatusNotFound {
		t.Fatalf("deleted endpoint: %d", r.code)
	}
}

var secretShown = regexp.MustCompile(`id="new-secret" class="code" type="text" readonly value="(whsec_[^"]+)"`)

// An admin adds an endpoint in the portal, sees its secret once, a
// delivery's answers in its log, redelivers it and removes the endpoint.
func TestWebhooksInThePortal(t *testing.T) {
	e := newWebhookEnv(t)
	e.adminToken(t)
	rcv := webhooktest.NewReceiver(t)
	rcv.Answer = func(n int, _ webhooktest.Delivery) int { return map[bool]int{true: 503, false: 204}[n == 0] }
	b := e.browser(t)
	csrf := b.signIn("admin@example.com", "correct horse")

	bad := b.post("/webhooks", url.Values{"csrf": {csrf}, "url": {"http://192.168.1.5/hooks"}, "description": {"intranet"}}, nil)
	if bad.code != http.StatusUnprocessableEntity || !strings.Contains(bad.body, "private, local or reserved address") ||
		!strings.Contains(bad.body, `value="http://192.168.1.5/hooks"`) {
		t.Fatalf("refused URL: %d\n%s", bad.code, bad.body)
	}
	added := b.post("/webhooks", url.Values{"csrf": {csrf}, "url": {rcv.URL}, "description": {"course site"}}, nil)
	m := secretShown.FindStringSubmatch(added.body)
	if added.code != http.StatusCreated || m == nil || added.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("add: %d %v\n%s", added.code, added.header, added.body)
	}
	list := b.get("/webhooks")
	if strings.Contains(list.body, m[1]) || !strings.Contains(list.body, rcv.URL) {
		t.Fatal("the list shows the secret again, or not the endpoint")
	}
	hooks, _ := e.db.WebhookEndpoints(context.Background())
	page := "/webhooks/" + itoa(hooks[0].ID)

	e.api(t, "POST", "/api/v1/streams", e.token, `{"title":"Talk"}`)
	waitfor.True(t, "a 503, then a 204", func() bool { return strings.Contains(b.get(page).body, "<code>503 204</code>") })
	detail := b.get(page)
	if !strings.Contains(detail.body, "stream.created") || !strings.Contains(detail.body, "delivered") {
		t.Fatalf("log:\n%s", detail.body)
	}
	redeliver := regexp.MustCompile(`action="(/webhooks/\d+/deliveries/\d+/redeliver)"`).FindStringSubmatch(detail.body)
	if r := b.post(redeliver[1], url.Values{"csrf": {csrf}}, nil); r.code != http.StatusSeeOther {
		t.Fatalf("redeliver: %d", r.code)
	}
	waitfor.True(t, "the redelivery", func() bool { return len(rcv.Got()) == 3 })
	if v := webhooktest.Verify(t, m[1], rcv.Got()); v[2].Problem != "" || v[2].ID != v[0].ID {
		t.Fatalf("redelivery %+v", v[2])
	}
	if r := b.post(page+"/remove", url.Values{"csrf": {csrf}}, nil); r.code != http.StatusSeeOther {
		t.Fatalf("remove: %d", r.code)
	}
	if left, _ := e.db.WebhookEndpoints(context.Background()); len(left) != 0 {
		t.Fatalf("%d endpoints left", len(left))
	}

	editor := e.browser(t)
	editor.signIn("ed@example.com", "correct horse")
	if r := editor.get("/webhooks"); r.code != http.StatusForbidden {
		t.Fatalf("an editor opens /webhooks: %d", r.code)
	}
}
