package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/safehttp"
)

// Message is the body of every delivery (Standard Webhooks' shape).
type Message struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"` // when the event happened
	Data      any       `json:"data"`
}

// send POSTs one attempt and returns the status (0: no answer) and, unless
// the receiver answered 2xx, what went wrong in words for the delivery log.
func (d *Dispatcher) send(ctx context.Context, v *db.DueDelivery) (int, string) {
	body, err := json.Marshal(Message{Type: v.EventType, Timestamp: v.EventAt, Data: d.Payload(&v.Stream)})
	if err != nil {
		return 0, "edge could not encode the event"
	}
	wh, err := standardwebhooks.NewWebhook(v.Secret)
	if err != nil {
		return 0, "the endpoint's secret is not usable"
	}
	now := time.Now()
	sig, err := wh.Sign(v.EventID, now, body)
	if err != nil {
		return 0, "edge could not sign the event"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "the endpoint's URL is not usable"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "edge-webhooks/1")
	req.Header.Set(standardwebhooks.HeaderWebhookID, v.EventID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, noAnswer(err, d.timeout())
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, "the endpoint answered " + resp.Status
	}
	return resp.StatusCode, ""
}

// noAnswer says why no answer came, without edge's internals.
func noAnswer(err error, timeout time.Duration) string {
	var timeoutErr interface{ Timeout() bool }
	switch {
	case safehttp.Refused(err):
		return "the URL leads to a private, local or reserved address: edge does not send to it (see EDGE_WEBHOOK_ALLOW)"
	case errors.As(err, &timeoutErr) && timeoutErr.Timeout():
		return fmt.Sprintf("no answer within %s", timeout)
	}
	var urlErr interface{ Unwrap() error }
	if errors.As(err, &urlErr) {
		err = urlErr.Unwrap()
	}
	return "no answer: " + err.Error()
}
