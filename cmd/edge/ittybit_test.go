package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgehls/edge/internal/hlstest"
	"github.com/edgehls/edge/internal/waitfor"
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
		var logs strings.Builder
		err = serve(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)), nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", vars, err, want)
		}
		if strings.Contains(logs.String(), "setup_url") { // a link that will never open
			t.Errorf("%s: a start that failed printed a setup link", vars)
		}
	}
}

// ittybitEdge runs edge on S3 (streams under edge/, uploads under
// incoming/ of one versitygw bucket) with the Ittybit backend pointed at
// the fake.
func ittybitEdge(t *testing.T, webhooks string) (api func(method, path, body string) map[string]any, base string, fake *ittybittest.Fake, bucket *storage.S3Store, token string) {
	s3srv := storagetest.StartS3(t)
	bucket = s3srv.Store(t, "")
	fake = ittybittest.Start(t, bucket)
	t.Setenv("AWS_ACCESS_KEY_ID", s3srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3srv.SecretKey)
	t.Setenv("AWS_REGION", s3srv.Region)
	t.Setenv("AWS_ENDPOINT_URL_S3", s3srv.Endpoint)
	// The test edge is on http://127.0.0.1, which Ittybit could not call:
	// "on" turns webhooks on by hand, as with a tunnel in development.
	vars := map[string]string{"EDGE_DATA_DIR": t.TempDir(), "EDGE_STORAGE": "s3://media/edge", "EDGE_UPLOADS": "s3://media/incoming", "EDGE_S3_PATH_STYLE": "true",
		"EDGE_ITTYBIT_WEBHOOKS": webhooks,
		"ITTYBIT_API_KEY":       fake.Key, "ITTYBIT_API_URL": fake.URL, "ITTYBIT_CONNECTION_ID": fake.ConnectionID}
	api, base = scriptedEdge(t, vars)
	token, _ = runCmd(t, vars, "", "token", "create", "--email", "ana@example.com")
	return api, base, fake, bucket, strings.TrimSpace(token)
}

// TestIttybitThroughServe: with S3 storage, S3 upload storage and an
// Ittybit key, a submitted stream becomes the guide's job request, its
// input in the upload storage, and ends ready. With webhooks on it names
// edge's webhook URL, which the fake calls; left to "auto" on this
// http://127.0.0.1 edge, which Ittybit could never reach, it names none
// and polling alone ends the job.
func TestIttybitThroughServe(t *testing.T) {
	for _, webhooks := range []string{"on", "auto"} {
		t.Run(webhooks, func(t *testing.T) {
			api, base, fake, bucket, _ := ittybitEdge(t, webhooks)
			bucket.Put(context.Background(), "incoming/uploads/talk.mov", strings.NewReader("x"), 1)
			id := api("POST", "/api/v1/streams", `{"source":"uploads/talk.mov"}`)["id"].(string)
			st := waitSettled(t, api, id, time.Minute)
			if st["status"] != "ready" {
				t.Fatalf("stream: %v", st)
			}
			b := fake.Calls()[0].Body
			if b["input"] != "s3://media/incoming/uploads/talk.mov" || b["output"] != "s3://media/edge/streams/"+id+"/" || b["kind"] != "adaptive_video" {
				t.Fatalf("job request: %v", b)
			}
			hook, named := b["webhook_url"].(string)
			switch {
			case webhooks == "on" && !strings.HasPrefix(hook, base+"/hooks/ittybit/"+id+"/"):
				t.Fatalf("webhook_url %q", b["webhook_url"])
			case webhooks == "on":
				waitCalled(t, fake)
			case named || len(fake.HookCalls()) > 0:
				t.Fatalf("an edge Ittybit cannot reach sent webhook_url %q", hook)
			}
			resp, err := http.Get(base + "/streams/" + id + "/master.m3u8")
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("master through the proxy: %v %v", resp, err)
			}
			resp.Body.Close()
		})
	}
}

// waitCalled waits for the fake's webhook and checks edge took it.
func waitCalled(t *testing.T, fake *ittybittest.Fake) {
	t.Helper()
	waitfor.True(t, "the fake's webhook", func() bool { return len(fake.HookCalls()) > 0 })
	if c := fake.HookCalls()[0]; c.Status != http.StatusNoContent {
		t.Fatalf("edge answered the webhook %d", c.Status)
	}
}

// TestBrowserStyleUploadToIttybit: the "done when" with S3 and an
// Ittybit key: a tus upload (as the upload page sends it) goes straight
// into the upload bucket and becomes the guide's job request.
func TestBrowserStyleUploadToIttybit(t *testing.T) {
	api, base, fake, bucket, token := ittybitEdge(t, "on")
	src := filepath.Join(t.TempDir(), "clip.mov")
	hlstest.MakeSource(t, src, 2, "640x360", true)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	created := api("POST", "/api/v1/streams", `{"title":"Phone clip"}`)
	id, _ := created["id"].(string)
	uploadURL, _ := created["upload_url"].(string)
	if uploadURL != base+"/uploads/?stream="+id {
		t.Fatalf("upload_url %q", uploadURL)
	}
	tusUpload(t, uploadURL, token, data, "Phone clip.mov")
	st := waitSettled(t, api, id, time.Minute)
	if st["status"] != "ready" {
		t.Fatalf("stream: %v", st)
	}
	b := fake.Calls()[0].Body
	if b["input"] != "s3://media/incoming/uploads/"+id+"/Phone_clip.mov" || b["output"] != "s3://media/edge/streams/"+id+"/" {
		t.Fatalf("job request: %v", b)
	}
	if _, err := bucket.Head(context.Background(), "incoming/uploads/"+id+"/Phone_clip.mov"); err != nil {
		t.Fatalf("the upload is not in the upload bucket: %v", err)
	}
}

// tusUpload creates a tus upload and sends it in one PATCH.
func tusUpload(t *testing.T, createURL, token string, data []byte, name string) {
	t.Helper()
	send := func(method, url string, hdr map[string]string, body []byte) *http.Response {
		req, _ := http.NewRequest(method, url, bytes.NewReader(body))
		req.Header.Set("Tus-Resumable", "1.0.0")
		req.Header.Set("Authorization", "Bearer "+token)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := send("POST", createURL, map[string]string{"Upload-Length": strconv.Itoa(len(data)),
		"Upload-Metadata": "filename " + base64.StdEncoding.EncodeToString([]byte(name))}, nil)
	if resp.StatusCode != 201 {
		t.Fatalf("create upload: %d", resp.StatusCode)
	}
	resp = send("PATCH", resp.Header.Get("Location"), map[string]string{"Upload-Offset": "0",
		"Content-Type": "application/offset+octet-stream"}, data)
	if resp.StatusCode != 204 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
}
