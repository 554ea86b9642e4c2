package jobs_test

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/waitfor"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/jobs/ittybittest"
	"github.com/edgehls/edge/storage/storagetest"
)

// ittybitRig is edge with S3 storage under the prefix "edge/" and the
// Ittybit backend pointed at the fake.
type ittybitRig struct {
	*rig
	fake *ittybittest.Fake
}

func newIttybitRig(t *testing.T, legacy bool) *ittybitRig {
	t.Helper()
	srv := storagetest.StartS3(t)
	store := srv.Store(t, "edge")
	fake := ittybittest.Start(t, srv.Store(t, ""))
	fake.Legacy = legacy
	r := newRig(t, store)
	r.worker.Transcoder = &jobs.Ittybit{APIKey: fake.Key, BaseURL: fake.URL, ConnectionID: fake.ConnectionID, Store: store,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Poll: 50 * time.Millisecond}
	store.Put(context.Background(), "uploads/x/lecture.mov", strings.NewReader("the service only checks it exists"), -1)
	return &ittybitRig{r, fake}
}

func (r *ittybitRig) submit(t *testing.T) *db.Stream {
	t.Helper()
	start(t, r.worker)
	st, err := r.manager.Submit(context.Background(), jobs.Submission{Source: "uploads/x/lecture.mov"})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestIttybitSendsTheGuidesJobAndFinishes(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		t.Run(map[bool]string{false: "current shapes", true: "older shapes"}[legacy], func(t *testing.T) {
			r := newIttybitRig(t, legacy)
			st := waitStatus(t, r.db, r.submit(t).ID, db.StatusReady, time.Minute)
			if !slices.Equal(st.Renditions, []string{"720p", "360p"}) || st.Duration < 3*time.Second || st.Duration > 5*time.Second ||
				st.Width != 1280 || st.Height != 720 {
				t.Fatalf("ready stream: %+v", st)
			}
			create := r.fake.Calls()[0]
			b := create.Body
			if create.Method != "POST" || create.Path != "/jobs" || create.IdempotencyKey != "edge-stream-"+st.ID ||
				b["input"] != "s3://media/edge/uploads/x/lecture.mov" || b["kind"] != "adaptive_video" ||
				b["connection_id"] != "conn_test123" || b["output"] != "s3://media/edge/streams/"+st.ID+"/" {
				t.Fatalf("create request: %+v", create)
			}
			if opts := b["options"].(map[string]any); opts["format"] != "hls" || opts["quality"] != "high" {
				t.Fatalf("options: %v", opts)
			}
			for _, c := range r.fake.Calls() {
				if c.Version != jobs.APIVersion {
					t.Fatalf("%s %s sent Accept-Version %q, want the pinned %s", c.Method, c.Path, c.Version, jobs.APIVersion)
				}
			}
			if _, err := r.store.Head(context.Background(), "streams/"+st.ID+"/720p/segment-0.ts"); err != nil {
				t.Fatalf("output not in the bucket: %v", err)
			}
		})
	}
}

func TestIttybitRetriesThrottlingAndServerErrors(t *testing.T) {
	r := newIttybitRig(t, false)
	r.fake.Answer(
		ittybittest.Canned{Method: "POST", Status: 429, Body: `{"message":"slow down"}`, RetryAfter: "1"},
		ittybittest.Canned{Method: "POST", Status: 503, Body: `upstream unavailable`},
		ittybittest.Canned{Method: "GET", Status: 500, Body: `{"error":{"message":"oops"}}`},
	)
	st := waitStatus(t, r.db, r.submit(t).ID, db.StatusReady, time.Minute)
	var keys []string
	for _, c := range r.fake.Calls() {
		if c.Method == "POST" {
			keys = append(keys, c.IdempotencyKey)
		}
	}
	if len(keys) != 3 || keys[0] != keys[1] || keys[1] != keys[2] {
		t.Fatalf("retried creates should share one Idempotency-Key: %v", keys)
	}
	if st.Progress != 100 {
		t.Fatalf("progress %d", st.Progress)
	}
}

func TestIttybitErrorsReachTheUser(t *testing.T) {
	for _, tc := range []struct {
		name   string
		canned []ittybittest.Canned
		legacy bool
		source string
		want   string
	}{
		{name: "400 with kind and message", canned: []ittybittest.Canned{{Method: "POST", Status: 400, Body: `{"kind":"validation_error","message":"input file is not a supported format"}`}},
			want: "Ittybit refused the job: input file is not a supported format"},
		{name: "nested error shape", canned: []ittybittest.Canned{{Method: "POST", Status: 422, Body: `{"error":{"message":"connection has no write access"}}`}},
			want: "connection has no write access"},
		{name: "bad key", canned: []ittybittest.Canned{{Method: "POST", Status: 401, Body: `{"message":"invalid API key"}`}},
			want: "Ittybit refused edge's API key"},
		{name: "job failed", source: "uploads/x/missing.mov", want: "Ittybit could not process the video: input file not found"},
		{name: "job failed, older shape", legacy: true, source: "uploads/x/missing.mov", want: "input file not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newIttybitRig(t, tc.legacy)
			r.worker.Transcoder.(*jobs.Ittybit).MaxAttempts = 3
			r.fake.Answer(tc.canned...)
			start(t, r.worker)
			source := cmp.Or(tc.source, "uploads/x/lecture.mov")
			st, _ := r.db.CreateStream(context.Background(), db.NewStream{Title: "x", SourceKey: source, Status: db.StatusQueued})
			r.worker.Wake()
			got := waitStatus(t, r.db, st.ID, db.StatusFailed, time.Minute)
			if !strings.Contains(got.Error, tc.want) {
				t.Fatalf("error shown: %q, want %q", got.Error, tc.want)
			}
		})
	}
}

// TestIttybitWebhook: with polling slowed to ten minutes, only the webhook
// can end the wait. A call with a wrong token is refused; a call with the
// right token while the job still runs makes edge ask the API, which says
// "processing", so the stream stays processing: the call itself is not
// trusted.
func TestIttybitWebhook(t *testing.T) {
	r := newIttybitRig(t, false)
	it := r.hooksOnly(t, nil)
	r.fake.Gate = make(chan struct{})

	st := waitStatus(t, r.db, r.submit(t).ID, db.StatusProcessing, time.Minute)
	waitfor.True(t, "the job request", func() bool { return countCalls(r.fake, "POST") > 0 })
	hookURL, _ := r.fake.Calls()[0].Body["webhook_url"].(string)
	prefix := it.WebhookBase + jobs.HookPath + st.ID + "/"
	if !strings.HasPrefix(hookURL, prefix) || len(hookURL) < len(prefix)+32 {
		t.Fatalf("webhook_url %q, want %s<token>", hookURL, prefix)
	}
	if it.Hook(st.ID, "forged") || it.Hook("another-stream", strings.TrimPrefix(hookURL, prefix)) {
		t.Fatal("a webhook with a wrong token was taken")
	}

	gets := func() int { return countCalls(r.fake, "GET") }
	before := gets()
	post(t, hookURL, 204)
	waitfor.True(t, "edge to ask the API after the webhook", func() bool { return gets() > before })
	if got, _ := r.db.Stream(context.Background(), st.ID); got.Status != db.StatusProcessing {
		t.Fatalf("a webhook for an unfinished job changed the stream: %s", got.Status)
	}

	close(r.fake.Gate)
	waitStatus(t, r.db, st.ID, db.StatusReady, time.Minute)
	if calls := r.fake.HookCalls(); len(calls) != 1 || calls[0].Status != 204 {
		t.Fatalf("webhooks delivered: %+v", calls)
	}
}

// TestIttybitWebhookRetried: edge failing a webhook (here a 503 from a
// proxy in front of it) loses nothing: the sender delivers it again, and
// with polling slowed to ten minutes that second delivery alone ends the
// wait.
func TestIttybitWebhookRetried(t *testing.T) {
	r := newIttybitRig(t, false)
	var answered atomic.Int32
	r.hooksOnly(t, func(w http.ResponseWriter) bool {
		if answered.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})

	st := waitStatus(t, r.db, r.submit(t).ID, db.StatusReady, time.Minute)
	var got []int
	for _, c := range r.fake.HookCalls() {
		got = append(got, c.Status)
	}
	if !slices.Equal(got, []int{503, 204}) || st.Duration == 0 {
		t.Fatalf("deliveries answered %v (want 503 then 204), stream %+v", got, st)
	}
}

// hooksOnly slows polling to ten minutes, so only a webhook can end a
// wait, and points the webhooks at a receiver that hands them to the
// transcoder as web does; first, when set, may answer a call itself.
func (r *ittybitRig) hooksOnly(t *testing.T, first func(http.ResponseWriter) bool) *jobs.Ittybit {
	it := r.worker.Transcoder.(*jobs.Ittybit)
	it.Poll = 10 * time.Minute
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if first != nil && first(w) {
			return
		}
		stream, token, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, jobs.HookPath), "/")
		if !it.Hook(stream, token) {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hooks.Close)
	it.WebhookBase = hooks.URL
	return it
}

func countCalls(f *ittybittest.Fake, method string) int {
	n := 0
	for _, c := range f.Calls() {
		if c.Method == method {
			n++
		}
	}
	return n
}

func post(t *testing.T, url string, want int) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(`{"status":"succeeded"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %d, want %d", url, resp.StatusCode, want)
	}
}

// TestIttybitOutageEndsReady: Ittybit answering 5xx for longer than one
// request's retries, on the create and while polling, does not fail the
// stream: edge keeps following the job, which runs on, until it is ready.
func TestIttybitOutageEndsReady(t *testing.T) {
	r := newIttybitRig(t, false)
	r.worker.Transcoder.(*jobs.Ittybit).MaxAttempts = 2
	r.fake.Answer(slices.Repeat([]ittybittest.Canned{{Method: "POST", Status: 502, Body: "bad gateway"}}, 5)...)
	r.fake.Answer(slices.Repeat([]ittybittest.Canned{{Method: "GET", Status: 503, Body: "unavailable"}}, 5)...)
	st := waitStatus(t, r.db, r.submit(t).ID, db.StatusReady, time.Minute)
	if st.Error != "" || countCalls(r.fake, "POST") < 6 {
		t.Fatalf("after the outage: %+v, %d creates", st, countCalls(r.fake, "POST"))
	}
}
