// Package ittybittest is a fake Ittybit API for tests, following its public
// documentation: Bearer auth, POST /jobs with the adaptive_video body,
// Idempotency-Key, Accept-Version, GET /jobs/{id}, and on demand 429/5xx/4xx
// answers and the older response shapes. Jobs write a real ffmpeg HLS ladder
// into the S3 output, as the service does, and call the job's webhook_url
// when it ends, again after a failed delivery, as webhook senders do.
package ittybittest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgehls/edge/internal/hlstest"
	"github.com/edgehls/edge/storage"
)

// Fake is a running fake API.
type Fake struct {
	URL          string
	Key          string
	ConnectionID string
	// Legacy answers in the older shapes: {"data": …}, "pending" and
	// "completed", ISO timestamps, string errors.
	Legacy bool
	// Gate, if set, holds every job in "processing" until it is closed.
	Gate chan struct{}
	// HookAttempts is how many times a webhook is delivered before the
	// fake gives up on it: any answer but 2xx, or none, is retried.
	HookAttempts int

	bucket string
	store  *storage.S3Store // the whole bucket, no prefix
	ladder string           // a real HLS ladder, made once

	mu       sync.Mutex
	jobs     map[string]*job
	byKey    map[string]string
	canned   []Canned
	Requests []Request
	hooks    []HookCall
}

// HookCall is one webhook the fake delivered, and edge's answer.
type HookCall struct {
	URL    string
	Status int
}

// Request is one call the fake received.
type Request struct {
	Method, Path, IdempotencyKey, Version string
	Body                                  map[string]any
}

// Canned is an answer given instead of the real one, once, to the next
// request with that method.
type Canned struct {
	Method     string
	Status     int
	Body       string
	RetryAfter string
}

type job struct {
	id, status, errText string
	progress            int
	created             time.Time
	webhook             string
}

// Start runs the fake until the test ends. store must see the bucket
// without a prefix.
func Start(t testing.TB, store *storage.S3Store) *Fake {
	t.Helper()
	f := &Fake{Key: "itty_test_key", ConnectionID: "conn_test123", bucket: store.Bucket(), store: store,
		jobs: map[string]*job{}, byKey: map[string]string{}, ladder: t.TempDir(), HookAttempts: 4}
	hlstest.MakeLadder(t, f.ladder, 4)
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Answer queues canned answers.
func (f *Fake) Answer(c ...Canned) {
	f.mu.Lock()
	f.canned = append(f.canned, c...)
	f.mu.Unlock()
}

// HookCalls returns the webhooks delivered so far.
func (f *Fake) HookCalls() []HookCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]HookCall(nil), f.hooks...)
}

// Calls returns the requests received so far.
func (f *Fake) Calls() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.Requests...)
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	req := Request{Method: r.Method, Path: r.URL.Path, IdempotencyKey: r.Header.Get("Idempotency-Key"), Version: r.Header.Get("Accept-Version")}
	json.NewDecoder(r.Body).Decode(&req.Body)
	f.mu.Lock()
	f.Requests = append(f.Requests, req)
	c, canned := f.takeCanned(r.Method)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Header.Get("Authorization") != "Bearer "+f.Key:
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"kind":"unauthorized","message":"invalid API key"}`)
	case canned:
		if c.RetryAfter != "" {
			w.Header().Set("Retry-After", c.RetryAfter)
		}
		w.WriteHeader(c.Status)
		fmt.Fprint(w, c.Body)
	case r.Method == http.MethodPost && r.URL.Path == "/jobs":
		f.create(w, req)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/jobs/"):
		f.get(w, strings.TrimPrefix(r.URL.Path, "/jobs/"))
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"not found"}`)
	}
}

func (f *Fake) takeCanned(method string) (Canned, bool) {
	for i, c := range f.canned {
		if c.Method == method {
			f.canned = append(f.canned[:i], f.canned[i+1:]...)
			return c, true
		}
	}
	return Canned{}, false
}

func (f *Fake) create(w http.ResponseWriter, req Request) {
	if msg := f.invalid(req.Body); msg != "" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"kind":"validation_error","message":%q}`, msg)
		return
	}
	f.mu.Lock()
	id, seen := f.byKey[req.IdempotencyKey]
	if !seen {
		id = "job_" + strconv.Itoa(len(f.jobs)+1)
		hook, _ := req.Body["webhook_url"].(string)
		f.jobs[id] = &job{id: id, status: "queued", created: time.Now(), webhook: hook}
		if req.IdempotencyKey != "" {
			f.byKey[req.IdempotencyKey] = id
		}
		go f.run(f.jobs[id], req.Body["input"].(string), req.Body["output"].(string))
	}
	body := f.render(f.jobs[id])
	f.mu.Unlock()
	// A replay of a key seen within 24 h returns the original job, as it
	// stands now: 200, not a second 201.
	if seen {
		w.WriteHeader(http.StatusOK)
	} else {
		w.WriteHeader(http.StatusCreated)
	}
	w.Write(body)
}

// invalid checks the body against the guide's request.
func (f *Fake) invalid(b map[string]any) string {
	opts, _ := b["options"].(map[string]any)
	input, _ := b["input"].(string)
	output, _ := b["output"].(string)
	switch {
	case b["kind"] != "adaptive_video":
		return "kind must be adaptive_video"
	case b["connection_id"] != f.ConnectionID:
		return "unknown connection_id"
	case !strings.HasPrefix(input, "s3://"+f.bucket+"/"):
		return "input must be an s3:// URL in the connection's bucket"
	case !strings.HasPrefix(output, "s3://"+f.bucket+"/") || !strings.HasSuffix(output, "/"):
		return "output must be an s3:// folder in the connection's bucket"
	case opts["format"] != "hls":
		return "options.format must be hls"
	case b["webhook_url"] != nil && !isHTTPURL(b["webhook_url"]):
		return "webhook_url must be an http(s) URL"
	}
	return ""
}

func (f *Fake) get(w http.ResponseWriter, id string) {
	f.mu.Lock()
	j, ok := f.jobs[id]
	var body []byte
	if ok {
		body = f.render(j)
	}
	f.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":{"message":"job not found"}}`)
		return
	}
	w.Write(body)
}

// run plays the service: queued, processing, then the ladder written to
// the output, or failed when the input is missing.
func (f *Fake) run(j *job, input, output string) {
	f.set(j, "processing", 40, "")
	ctx := context.Background()
	prefix := "s3://" + f.bucket + "/"
	if _, err := f.store.Head(ctx, strings.TrimPrefix(input, prefix)); err != nil {
		f.set(j, "failed", 0, "input file not found: "+input)
		return
	}
	if f.Gate != nil {
		<-f.Gate
	}
	if err := storage.PutDir(ctx, f.store, f.ladder, strings.TrimPrefix(output, prefix), "master.m3u8"); err != nil {
		f.set(j, "failed", 0, "write output: "+err.Error())
		return
	}
	f.set(j, "succeeded", 100, "")
}

// set changes a job's state and, when it has ended, calls its webhook
// with the job, as the service does.
func (f *Fake) set(j *job, status string, progress int, errText string) {
	f.mu.Lock()
	j.status, j.progress, j.errText = status, progress, errText
	body, hook := f.render(j), j.webhook
	f.mu.Unlock()
	if hook == "" || (status != "succeeded" && status != "failed") {
		return
	}
	f.deliver(hook, body)
}

// deliver posts a webhook until it is taken (2xx) or HookAttempts run out,
// pausing 10 ms, then 20, 40…: a receiver that failed once is called again.
func (f *Fake) deliver(hook string, body []byte) {
	pause := 10 * time.Millisecond
	for attempt := 1; attempt <= f.HookAttempts; attempt++ {
		call := HookCall{URL: hook}
		if resp, err := http.Post(hook, "application/json", bytes.NewReader(body)); err == nil {
			call.Status = resp.StatusCode
			resp.Body.Close()
		}
		f.mu.Lock()
		f.hooks = append(f.hooks, call)
		f.mu.Unlock()
		if call.Status >= 200 && call.Status < 300 {
			return
		}
		time.Sleep(pause)
		pause *= 2
	}
}

func isHTTPURL(v any) bool {
	s, _ := v.(string)
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// render answers in the current shape, or the older one in Legacy mode.
func (f *Fake) render(j *job) []byte {
	if !f.Legacy {
		var errField any
		if j.errText != "" {
			errField = map[string]string{"message": j.errText}
		}
		// As documented: no job-level progress; the job carries its tasks
		// (a probe, then the ladder), each with its status.
		probe := "queued"
		if j.status != "queued" {
			probe = "succeeded"
		}
		b, _ := json.Marshal(map[string]any{"id": j.id, "object": "job", "kind": "adaptive_video", "status": j.status,
			"error": errField, "created": j.created.UnixMilli(), "updated": time.Now().UnixMilli(),
			"tasks": []map[string]any{
				{"id": j.id + "_probe", "object": "task", "kind": "probe", "status": probe},
				{"id": j.id + "_hls", "object": "task", "kind": "adaptive_video", "status": j.status},
			}})
		return b
	}
	status := map[string]string{"queued": "pending", "processing": "processing", "succeeded": "completed", "failed": "error"}[j.status]
	b, _ := json.Marshal(map[string]any{"data": map[string]any{"id": j.id, "status": status, "error": j.errText,
		"progress": j.progress, "created_at": j.created.UTC().Format(time.RFC3339), "tasks": []any{}}})
	return b
}
