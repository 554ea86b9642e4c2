// Package webhooktest is a webhook receiver for tests: a real HTTP server
// on 127.0.0.1 that records each delivery and answers as the test says,
// and a check of their signatures by the Standard Webhooks reference
// library for JavaScript (scripts/whcheck, installed by `make test-deps`),
// which shares no code with edge's signer.
package webhooktest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Delivery is one request the receiver got.
type Delivery struct {
	Headers map[string]string // webhook-id, webhook-timestamp, webhook-signature, content-type
	Body    string
	At      time.Time
}

// Receiver records deliveries; Answer (nil: 204) decides each status.
type Receiver struct {
	URL    string
	Answer func(n int, d Delivery) int // n counts requests from 0

	mu  sync.Mutex
	got []Delivery
}

// NewReceiver starts a receiver stopped by t.Cleanup.
func NewReceiver(t testing.TB) *Receiver {
	r := &Receiver{}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/hooks/edge"
	return r
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	d := Delivery{Body: string(body), At: time.Now(), Headers: map[string]string{}}
	for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature", "content-type"} {
		d.Headers[h] = req.Header.Get(h)
	}
	r.mu.Lock()
	n := len(r.got)
	r.got = append(r.got, d)
	answer := r.Answer
	r.mu.Unlock()
	status := http.StatusNoContent
	if answer != nil {
		status = answer(n, d)
	}
	w.WriteHeader(status)
}

// Got returns the deliveries so far.
func (r *Receiver) Got() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.got...)
}

// Verified is a delivery the reference library accepted, with its payload.
type Verified struct {
	ID      string
	Type    string         `json:"type"`
	Time    string         `json:"timestamp"`
	Data    map[string]any `json:"data"`
	Problem string         // why the library refused it; "" when accepted
}

// Verify checks every delivery's signature under secret with the reference
// library, and returns what each says.
func Verify(t testing.TB, secret string, got []Delivery) []Verified {
	t.Helper()
	type check struct {
		Secret  string            `json:"secret"`
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	}
	var in []check
	for _, d := range got {
		in = append(in, check{secret, d.Headers, d.Body})
	}
	input, _ := json.Marshal(in)
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command("node", filepath.Join(filepath.Dir(file), "..", "..", "scripts", "whcheck", "verify.js"))
	cmd.Stdin = bytes.NewReader(input)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("standardwebhooks (run `make test-deps`): %v", err)
	}
	var res []struct {
		OK      bool     `json:"ok"`
		Error   string   `json:"error"`
		Payload Verified `json:"payload"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("standardwebhooks output %q: %v", out, err)
	}
	var v []Verified
	for i, r := range res {
		r.Payload.ID = got[i].Headers["webhook-id"]
		if !r.OK {
			r.Payload.Problem = r.Error
		}
		v = append(v, r.Payload)
	}
	return v
}
