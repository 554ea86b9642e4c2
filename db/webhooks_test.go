package db_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgehls/edge/db"
)

// Each change a receiver hears of is recorded with the change itself, once,
// with the stream as it was; progress and repeats are not events.
func TestEventsFollowStreamChanges(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	quiet := must[*db.Stream](t)(d.CreateStream(ctx, db.NewStream{Title: "before any endpoint"}))
	ep := must[*db.WebhookEndpoint](t)(d.CreateWebhookEndpoint(ctx, "https://cms.example.com/hooks", "cms", 0))
	if !strings.HasPrefix(ep.Secret, "whsec_") || len(ep.Secret) != 6+44 {
		t.Fatalf("secret %q: want whsec_ and 32 bytes in base64", ep.Secret)
	}
	st := must[*db.Stream](t)(d.CreateStream(ctx, db.NewStream{Title: "talk", Status: db.StatusQueued}))
	noErr(t, d.SetStreamState(ctx, st.ID, db.StatusProcessing, 40, ""))
	noErr(t, d.SetStreamOutput(ctx, st.ID, db.StreamOutput{Duration: 20 * time.Second, Renditions: []string{"720p"}, Width: 1280, Height: 720}))
	noErr(t, d.SetStreamState(ctx, st.ID, db.StatusReady, 100, ""))
	noErr(t, d.SetStreamState(ctx, st.ID, db.StatusReady, 100, "")) // a repeat tells nothing new
	other := must[*db.Stream](t)(d.CreateStream(ctx, db.NewStream{Title: "broken", Status: db.StatusQueued}))
	noErr(t, d.SetStreamState(ctx, other.ID, db.StatusFailed, 0, "not a video"))
	noErr(t, d.DeleteStream(ctx, st.ID))
	noErr(t, d.DeleteStream(ctx, quiet.ID))

	due := must[[]db.DueDelivery](t)(d.ClaimDeliveries(ctx, 100, time.Minute))
	var got []string
	for _, v := range due {
		got = append(got, v.EventType+" "+v.Stream.Title)
		if v.URL != ep.URL || v.Secret != ep.Secret || !strings.HasPrefix(v.EventID, "msg_") {
			t.Errorf("delivery %+v", v.Delivery)
		}
	}
	want := []string{"stream.created talk", "stream.ready talk", "stream.created broken", "stream.failed broken",
		"stream.deleted talk", "stream.deleted before any endpoint"}
	if !slices.Equal(got, want) {
		t.Fatalf("events\n got %q\nwant %q", got, want)
	}
	if ready := due[1].Stream; ready.Status != db.StatusReady || ready.Duration != 20*time.Second || ready.Width != 1280 {
		t.Errorf("ready event's stream: %+v", ready)
	}
	if failed := due[3].Stream; failed.Error != "not a video" {
		t.Errorf("failed event's stream: %+v", failed)
	}
	if again := must[[]db.DueDelivery](t)(d.ClaimDeliveries(ctx, 100, time.Minute)); len(again) != 0 {
		t.Fatalf("claimed twice within the lease: %d", len(again))
	}
}

// A delivery retries until it is answered 2xx or runs out of retries; the
// log keeps every attempt's status; a redelivery sends it once more.
func TestDeliveryAttemptsAndRedelivery(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	d.SetClock(func() time.Time { return now })
	ep := must[*db.WebhookEndpoint](t)(d.CreateWebhookEndpoint(ctx, "https://cms.example.com/hooks", "", 0))
	must[*db.Stream](t)(d.CreateStream(ctx, db.NewStream{Title: "talk"}))
	due := must[[]db.DueDelivery](t)(d.ClaimDeliveries(ctx, 10, time.Minute))
	if len(due) != 1 {
		t.Fatalf("%d due", len(due))
	}
	id := due[0].ID
	noErr(t, d.RecordAttempt(ctx, id, db.Attempt{Status: 500, Error: "500 Internal Server Error", Next: now.Add(5 * time.Second)}))
	now = now.Add(4 * time.Second)
	if n := len(must[[]db.DueDelivery](t)(d.ClaimDeliveries(ctx, 10, time.Minute))); n != 0 {
		t.Fatalf("due before its retry time: %d", n)
	}
	now = now.Add(2 * time.Second)
	if n := len(must[[]db.DueDelivery](t)(d.ClaimDeliveries(ctx, 10, time.Minute))); n != 1 {
		t.Fatalf("not due at its retry time: %d", n)
	}
	noErr(t, d.RecordAttempt(ctx, id, db.Attempt{Status: 0, Error: "connection refused"})) // out of retries
	log := must[[]db.Delivery](t)(d.Deliveries(ctx, ep.ID, 10))
	if len(log) != 1 || log[0].State != db.DeliveryFailed || !slices.Equal(log[0].Codes, []int{500, 0}) || log[0].Attempts != 2 ||
		log[0].LastError != "connection refused" {
		t.Fatalf("log %+v", log)
	}
	if err := d.Redeliver(ctx, ep.ID+1, id); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("redeliver through another endpoint: %v", err)
	}
	noErr(t, d.Redeliver(ctx, ep.ID, id))
	again := must[[]db.DueDelivery](t)(d.ClaimDeliveries(ctx, 10, time.Minute))
	if len(again) != 1 || again[0].EventID != due[0].EventID {
		t.Fatalf("redelivery %+v, want the same event %s", again, due[0].EventID)
	}
	noErr(t, d.RecordAttempt(ctx, id, db.Attempt{Status: 204}))
	log = must[[]db.Delivery](t)(d.Deliveries(ctx, ep.ID, 10))
	if log[0].State != db.DeliveryDelivered || !slices.Equal(log[0].Codes, []int{500, 0, 204}) {
		t.Fatalf("after redelivery %+v", log[0])
	}

	now = now.Add(31 * 24 * time.Hour)
	if n := must[int64](t)(d.PruneWebhookEvents(ctx, now.Add(-30*24*time.Hour))); n != 1 {
		t.Fatalf("pruned %d events, want the delivered one", n)
	}
	noErr(t, d.DeleteWebhookEndpoint(ctx, ep.ID))
	if err := d.DeleteWebhookEndpoint(ctx, ep.ID); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestWebhookEndpointLimits(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	if _, err := d.CreateWebhookEndpoint(ctx, "https://a.example", strings.Repeat("x", 201), 0); !errors.Is(err, db.ErrInvalid) {
		t.Fatalf("long description: %v", err)
	}
	for range db.MaxWebhookEndpoints {
		must[*db.WebhookEndpoint](t)(d.CreateWebhookEndpoint(ctx, "https://a.example", "", 0))
	}
	if _, err := d.CreateWebhookEndpoint(ctx, "https://a.example", "", 0); !errors.Is(err, db.ErrInvalid) {
		t.Fatalf("one too many: %v", err)
	}
}
