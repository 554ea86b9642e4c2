package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgehls/edge/jobs/ittybittest"
	"github.com/edgehls/edge/storage"
	"github.com/edgehls/edge/storage/storagetest"
)

func TestIttybitConfiguration(t *testing.T) {
	c, err := parseConfig(nil, env(map[string]string{"ITTYBIT_API_KEY": "k"}), io.Discard)
	if err != nil || c.Transcoder != "ittybit" {
		t.Fatalf("a key selects ittybit: %q %v", c.Transcoder, err)
	}
	if c, _ := parseConfig(nil, env(nil), io.Discard); c.Transcoder != "ffmpeg" {
		t.Fatalf("default transcoder %q", c.Transcoder)
	}
	if _, err := parseConfig(nil, env(map[string]string{"EDGE_TRANSCODER": "handbrake"}), io.Discard); err == nil ||
		!strings.Contains(err.Error(), `invalid EDGE_TRANSCODER "handbrake": want one of ffmpeg, ittybit`) {
		t.Fatalf("bad transcoder: %v", err)
	}
	for vars, want := range map[string]string{
		"ITTYBIT_API_KEY=k ITTYBIT_CONNECTION_ID=conn_1":                                                   "needs s3:// storage",
		"EDGE_TRANSCODER=ittybit EDGE_STORAGE=s3://b/p":                                                    "needs ITTYBIT_API_KEY",
		"ITTYBIT_API_KEY=k EDGE_STORAGE=s3://b/p":                                                          "needs ITTYBIT_CONNECTION_ID",
		"ITTYBIT_API_KEY=k ITTYBIT_CONNECTION_ID=conn_1 EDGE_STORAGE=s3://b/p EDGE_UPLOADS=file:///tmp/up": "needs s3:// upload storage (EDGE_UPLOADS)",
	} {
		m := map[string]string{"EDGE_DATA_DIR": t.TempDir()}
		for _, kv := range strings.Fields(vars) {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		cfg, err := parseConfig(nil, env(m), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		err = serve(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", vars, err, want)
		}
	}
}

// TestIttybitThroughServe: with S3 storage, S3 upload storage and an
// Ittybit key, a submitted stream becomes the guide's job request, its
// input in the upload storage, and ends ready.
func TestIttybitThroughServe(t *testing.T) {
	s3srv := storagetest.StartS3(t)
	bucket, err := storage.NewS3Store(context.Background(), storage.S3Options{Bucket: s3srv.Bucket, PathStyle: true,
		Endpoint: s3srv.Endpoint, Region: s3srv.Region, AccessKey: s3srv.AccessKey, SecretKey: s3srv.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	bucket.Put(context.Background(), "incoming/uploads/talk.mov", strings.NewReader("x"), 1)
	fake := ittybittest.Start(t, bucket)
	t.Setenv("AWS_ACCESS_KEY_ID", s3srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3srv.SecretKey)
	t.Setenv("AWS_REGION", s3srv.Region)
	t.Setenv("AWS_ENDPOINT_URL_S3", s3srv.Endpoint)
	vars := map[string]string{"EDGE_DATA_DIR": t.TempDir(), "EDGE_STORAGE": "s3://media/edge", "EDGE_UPLOADS": "s3://media/incoming", "EDGE_S3_PATH_STYLE": "true",
		"ITTYBIT_API_KEY": fake.Key, "ITTYBIT_API_URL": fake.URL, "ITTYBIT_CONNECTION_ID": fake.ConnectionID}
	api, base := scriptedEdge(t, vars)
	id := api("POST", "/api/v1/streams", `{"source":"uploads/talk.mov"}`)["id"].(string)
	st := waitSettled(t, api, id, time.Minute)
	if st["status"] != "ready" {
		t.Fatalf("stream: %v", st)
	}
	b := fake.Calls()[0].Body
	if b["input"] != "s3://media/incoming/uploads/talk.mov" || b["output"] != "s3://media/edge/streams/"+id+"/" || b["kind"] != "adaptive_video" {
		t.Fatalf("job request: %v", b)
	}
	if hook, _ := b["webhook_url"].(string); !strings.HasPrefix(hook, base+"/hooks/ittybit/"+id+"/") {
		t.Fatalf("webhook_url %q", b["webhook_url"])
	}
	waitCalled(t, fake)
	resp, err := http.Get(base + "/streams/" + id + "/master.m3u8")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("master through the proxy: %v %v", resp, err)
	}
	resp.Body.Close()
}

// waitCalled waits for the fake's webhook and checks edge took it.
func waitCalled(t *testing.T, fake *ittybittest.Fake) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); len(fake.HookCalls()) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the fake never called the webhook")
		}
	}
	if c := fake.HookCalls()[0]; c.Status != http.StatusNoContent {
		t.Fatalf("edge answered the webhook %d", c.Status)
	}
}
