// Package webhooks sends edge's events (stream.created, .ready, .failed,
// .deleted) to the endpoints a team registers, as the Standard Webhooks
// specification has them: a {"type","timestamp","data"} body signed with
// the endpoint's secret in webhook-id, webhook-timestamp and
// webhook-signature. The signing is the specification's own Go library
// (github.com/standard-webhooks/standard-webhooks/libraries), not ours.
// Events and deliveries live in SQLite (db), recorded with the change they
// tell of, so a restart loses none; a delivery is retried with growing
// pauses for about a day.
package webhooks

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/safehttp"
)

// DefaultBackoff is the pause before each retry: 11 attempts over 23 h 42 min.
var DefaultBackoff = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 8 * time.Hour}

const (
	defaultPoll    = time.Second
	defaultTimeout = 15 * time.Second
	batch          = 16 // deliveries claimed at once
	parallel       = 4  // attempts in flight at once
	keepEvents     = 30 * 24 * time.Hour
)

// Dispatcher delivers due webhook deliveries until its Run ends.
type Dispatcher struct {
	DB *db.DB
	// Payload is the stream as the API shows it: the events' data.
	Payload func(*db.Stream) any
	// Allow lets private or local networks through after all
	// (EDGE_WEBHOOK_ALLOW: a CMS on the intranet).
	Allow   []netip.Prefix
	Backoff []time.Duration // nil: DefaultBackoff
	Poll    time.Duration   // how often due deliveries are looked for; 0: a second
	Timeout time.Duration   // for one attempt; 0: 15 s
	Log     *slog.Logger

	once   sync.Once
	guard  *safehttp.Guard
	client *http.Client
	wake   chan struct{}
}

func (d *Dispatcher) init() {
	d.once.Do(func() {
		d.guard = safehttp.New(d.Allow)
		d.client = &http.Client{Transport: d.guard.Transport(), Timeout: d.timeout(),
			// A receiver that moved says so with a new URL, not a redirect
			// edge would follow with the event's signature.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		d.wake = make(chan struct{}, 1)
		if d.Log == nil {
			d.Log = slog.Default()
		}
	})
}

func (d *Dispatcher) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return defaultTimeout
}

// CheckURL refuses an endpoint URL edge must not or cannot send to.
func (d *Dispatcher) CheckURL(ctx context.Context, raw string) (*url.URL, error) {
	d.init()
	return d.guard.CheckURL(ctx, raw, "https://cms.example.com/hooks/edge")
}

// Wake has due deliveries looked for now rather than at the next poll.
func (d *Dispatcher) Wake() {
	d.init()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then lets the attempts in flight finish
// (each within its timeout), so a graceful restart sends nothing twice.
func (d *Dispatcher) Run(ctx context.Context) {
	d.init()
	poll := d.Poll
	if poll <= 0 {
		poll = defaultPoll
	}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	lastPrune := time.Time{}
	for {
		if time.Since(lastPrune) > time.Hour {
			d.prune(ctx)
			lastPrune = time.Now()
		}
		for d.deliverDue(ctx) == batch && ctx.Err() == nil {
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-d.wake:
		}
	}
}

// deliverDue attempts one batch of due deliveries and says how many.
func (d *Dispatcher) deliverDue(ctx context.Context) int {
	// The lease outlasts an attempt: a delivery cut short by a crash is
	// tried again once it runs out.
	due, err := d.DB.ClaimDeliveries(ctx, batch, d.timeout()+15*time.Second)
	if err != nil {
		if ctx.Err() == nil {
			d.Log.Error("claim webhook deliveries", "err", err)
		}
		return 0
	}
	var g errgroup.Group
	g.SetLimit(parallel)
	for i := range due {
		g.Go(func() error {
			d.deliver(context.WithoutCancel(ctx), &due[i])
			return nil
		})
	}
	g.Wait()
	return len(due)
}

// deliver makes one attempt and records it.
func (d *Dispatcher) deliver(ctx context.Context, v *db.DueDelivery) {
	status, problem := d.send(ctx, v)
	a := db.Attempt{Status: status, Error: problem}
	if problem != "" {
		a.Next = d.nextAttempt(v.Attempts)
	}
	log := d.Log.With("endpoint", v.EndpointID, "webhook_id", v.EventID, "event", v.EventType, "stream", v.StreamID, "status", status)
	switch {
	case problem == "":
		log.Info("webhook delivered")
	case a.Next.IsZero():
		log.Warn("webhook delivery failed for good", "attempts", v.Attempts+1, "problem", problem)
	default:
		log.Info("webhook delivery to be retried", "problem", problem, "next", a.Next)
	}
	if err := d.DB.RecordAttempt(ctx, v.ID, a); err != nil {
		log.Error("record webhook attempt", "err", err)
	}
}

// nextAttempt is when to retry after the given number of earlier attempts
// and this one; zero once the pauses are used up.
func (d *Dispatcher) nextAttempt(earlier int) time.Time {
	backoff := d.Backoff
	if backoff == nil {
		backoff = DefaultBackoff
	}
	if earlier >= len(backoff) {
		return time.Time{}
	}
	return time.Now().Add(backoff[earlier])
}

func (d *Dispatcher) prune(ctx context.Context) {
	n, err := d.DB.PruneWebhookEvents(ctx, time.Now().Add(-keepEvents))
	if err != nil && ctx.Err() == nil {
		d.Log.Error("prune webhook events", "err", err)
	} else if n > 0 {
		d.Log.Info("pruned old webhook events", "count", n)
	}
}
