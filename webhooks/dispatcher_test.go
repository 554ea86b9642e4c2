package webhooks_test

import (
	"context"
	"log/slog"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/internal/waitfor"
	"github.com/edgehls/edge/internal/webhooktest"
	"github.com/edgehls/edge/webhooks"
)

var quiet = slog.New(slog.DiscardHandler)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

func openDB(t *testing.T, path string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func payload(st *db.Stream) any {
	return map[string]any{"id": st.ID, "title": st.Title, "status": st.Status, "error": st.Error}
}

// start runs a dispatcher until the returned stop is called (or the test ends).
func start(t *testing.T, d *db.DB, backoff ...time.Duration) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	disp := &webhooks.Dispatcher{DB: d, Payload: payload, Allow: loopback, Backoff: backoff, Poll: 20 * time.Millisecond, Log: quiet}
	var wg sync.WaitGroup
	wg.Go(func() { disp.Run(ctx) })
	stop = sync.OnceFunc(func() { cancel(); wg.Wait() })
	t.Cleanup(stop)
	return stop
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Every event arrives once, signed so that the Standard Webhooks reference
// library for JavaScript accepts it, with the stream in its data.
func TestEventsArriveSignedPerStandardWebhooks(t *testing.T) {
	ctx := context.Background()
	d := openDB(t, filepath.Join(t.TempDir(), "edge.db"))
	rcv := webhooktest.NewReceiver(t)
	ep, err := d.CreateWebhookEndpoint(ctx, rcv.URL, "cms", 0)
	mustDo(t, err)
	start(t, d)
	st, err := d.CreateStream(ctx, db.NewStream{Title: "talk", Status: db.StatusQueued})
	mustDo(t, err)
	mustDo(t, d.SetStreamState(ctx, st.ID, db.StatusProcessing, 50, ""))
	mustDo(t, d.SetStreamState(ctx, st.ID, db.StatusReady, 100, ""))
	bad, err := d.CreateStream(ctx, db.NewStream{Title: "broken", Status: db.StatusQueued})
	mustDo(t, err)
	mustDo(t, d.SetStreamState(ctx, bad.ID, db.StatusFailed, 0, "not a video"))
	mustDo(t, d.DeleteStream(ctx, st.ID))
	waitfor.True(t, "five deliveries", func() bool { return len(rcv.Got()) >= 5 })

	got := rcv.Got()
	verified := webhooktest.Verify(t, ep.Secret, got)
	var events []string
	ids := map[string]bool{}
	for _, v := range verified {
		if v.Problem != "" {
			t.Fatalf("reference library refuses %s: %s", v.ID, v.Problem)
		}
		events = append(events, v.Type+" "+v.Data["title"].(string)+" "+v.Data["status"].(string))
		ids[v.ID] = true
		if _, err := time.Parse(time.RFC3339Nano, v.Time); err != nil {
			t.Errorf("timestamp %q: %v", v.Time, err)
		}
	}
	slices.Sort(events)
	want := []string{"stream.created broken queued", "stream.created talk queued", "stream.deleted talk ready",
		"stream.failed broken failed", "stream.ready talk ready"}
	if len(got) != 5 || len(ids) != 5 || !slices.Equal(events, want) {
		t.Fatalf("%d deliveries, %d ids: %q\nwant %q", len(got), len(ids), events, want)
	}
	if got[0].Headers["content-type"] != "application/json" {
		t.Errorf("content-type %q", got[0].Headers["content-type"])
	}
	// A signature under another secret, or over another body, is refused.
	forged := got[0]
	forged.Body = strings.Replace(forged.Body, `"title":"`, `"title":"x`, 1)
	if v := webhooktest.Verify(t, ep.Secret, []webhooktest.Delivery{forged}); v[0].Problem == "" {
		t.Fatal("the reference library accepts an altered body: the check cannot fail")
	}
}

// A receiver that answers 500 gets the same event again (same webhook-id)
// after the pause; the log has both answers.
func TestRetriedAfterA500(t *testing.T) {
	ctx := context.Background()
	d := openDB(t, filepath.Join(t.TempDir(), "edge.db"))
	rcv := webhooktest.NewReceiver(t)
	rcv.Answer = func(n int, _ webhooktest.Delivery) int { return map[bool]int{true: 500, false: 200}[n == 0] }
	ep, err := d.CreateWebhookEndpoint(ctx, rcv.URL, "", 0)
	mustDo(t, err)
	start(t, d, 50*time.Millisecond, time.Hour)
	_, err = d.CreateStream(ctx, db.NewStream{Title: "talk"})
	mustDo(t, err)
	waitfor.True(t, "the delivery to succeed", func() bool {
		log, _ := d.Deliveries(ctx, ep.ID, 10)
		return len(log) == 1 && log[0].State == db.DeliveryDelivered
	})
	got := rcv.Got()
	if len(got) != 2 || got[0].Headers["webhook-id"] != got[1].Headers["webhook-id"] {
		t.Fatalf("%d requests, ids %v", len(got), got)
	}
	if gap := got[1].At.Sub(got[0].At); gap < 50*time.Millisecond {
		t.Fatalf("retried after %s, before its pause", gap)
	}
	log, _ := d.Deliveries(ctx, ep.ID, 10)
	if !slices.Equal(log[0].Codes, []int{500, 200}) {
		t.Fatalf("codes %v", log[0].Codes)
	}
}

// Out of retries, a delivery fails for good with the last reason logged;
// a redelivery then sends it once more.
func TestGivesUpAfterTheLastRetry(t *testing.T) {
	ctx := context.Background()
	d := openDB(t, filepath.Join(t.TempDir(), "edge.db"))
	rcv := webhooktest.NewReceiver(t)
	rcv.Answer = func(int, webhooktest.Delivery) int { return 503 }
	ep, err := d.CreateWebhookEndpoint(ctx, rcv.URL, "", 0)
	mustDo(t, err)
	start(t, d, time.Millisecond, time.Millisecond)
	_, err = d.CreateStream(ctx, db.NewStream{Title: "talk"})
	mustDo(t, err)
	var log []db.Delivery
	waitfor.True(t, "the delivery to fail", func() bool {
		log, _ = d.Deliveries(ctx, ep.ID, 10)
		return len(log) == 1 && log[0].State == db.DeliveryFailed
	})
	if !slices.Equal(log[0].Codes, []int{503, 503, 503}) || log[0].LastError != "the endpoint answered 503 Service Unavailable" {
		t.Fatalf("log %+v", log[0])
	}
	rcv.Answer = nil
	mustDo(t, d.Redeliver(ctx, ep.ID, log[0].ID))
	waitfor.True(t, "the redelivery", func() bool {
		log, _ = d.Deliveries(ctx, ep.ID, 10)
		return log[0].State == db.DeliveryDelivered
	})
	if n := len(rcv.Got()); n != 4 {
		t.Fatalf("%d requests, want 3 tries and a redelivery", n)
	}
}

// Across a restart, each event arrives once: an attempt in flight when
// edge stops is finished first, and what happened while it was down is
// sent by the next process, from the same database file.
func TestEveryEventOnceAcrossARestart(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "edge.db")
	d := openDB(t, file)
	rcv := webhooktest.NewReceiver(t)
	inFlight, release := make(chan struct{}), make(chan struct{})
	rcv.Answer = func(n int, _ webhooktest.Delivery) int {
		if n == 0 {
			close(inFlight)
			<-release
		}
		return 204
	}
	_, err := d.CreateWebhookEndpoint(ctx, rcv.URL, "", 0)
	mustDo(t, err)
	stop := start(t, d)
	_, err = d.CreateStream(ctx, db.NewStream{Title: "first"})
	mustDo(t, err)
	<-inFlight
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	close(release)
	<-stopped
	for _, title := range []string{"while down 1", "while down 2"} {
		_, err := d.CreateStream(ctx, db.NewStream{Title: title})
		mustDo(t, err)
	}
	d.Close()

	d = openDB(t, file)
	start(t, d)
	waitfor.True(t, "three deliveries", func() bool { return len(rcv.Got()) >= 3 })
	last, _ := d.CreateStream(ctx, db.NewStream{Title: "after"}) // a marker: once it is in, nothing else is coming
	waitfor.True(t, "the marker", func() bool {
		for _, g := range rcv.Got() {
			if strings.Contains(g.Body, last.ID) {
				return true
			}
		}
		return false
	})
	seen := map[string]int{}
	for _, g := range rcv.Got() {
		seen[g.Headers["webhook-id"]]++
	}
	if len(seen) != 4 || len(rcv.Got()) != 4 {
		t.Fatalf("ids %v: want 4 events, each once", seen)
	}
}

// Endpoints that lead inside are refused, up front and at dial time.
func TestInternalEndpointsAreRefused(t *testing.T) {
	ctx := context.Background()
	disp := &webhooks.Dispatcher{}
	for _, u := range []string{"http://10.0.0.5/hooks", "http://169.254.169.254/latest", "http://[::1]:9/x", "ftp://example.com/x", "not a url"} {
		_, err := disp.CheckURL(ctx, u)
		if ae, ok := apperr.As(err); !ok || ae.Kind != apperr.Invalid || !strings.HasPrefix(ae.Message, "url: ") {
			t.Errorf("%s: %v", u, err)
		}
	}
	// Stored anyway (an older allow list, a name that now resolves inside):
	// the dial is refused and the log says why.
	d := openDB(t, filepath.Join(t.TempDir(), "edge.db"))
	rcv := webhooktest.NewReceiver(t)
	ep, err := d.CreateWebhookEndpoint(ctx, rcv.URL, "", 0)
	mustDo(t, err)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go (&webhooks.Dispatcher{DB: d, Payload: payload, Backoff: []time.Duration{time.Hour}, Poll: 20 * time.Millisecond, Log: quiet}).Run(runCtx)
	_, err = d.CreateStream(ctx, db.NewStream{Title: "talk"})
	mustDo(t, err)
	var log []db.Delivery
	waitfor.True(t, "the refused attempt", func() bool {
		log, _ = d.Deliveries(ctx, ep.ID, 10)
		return len(log) == 1 && log[0].Attempts == 1
	})
	if !strings.Contains(log[0].LastError, "private, local or reserved address") || len(rcv.Got()) != 0 {
		t.Fatalf("log %+v, %d requests", log[0], len(rcv.Got()))
	}
}
