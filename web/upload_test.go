package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/hlstest"
	"github.com/edgehls/edge/storage"
	"github.com/edgehls/edge/storage/storagetest"
	"github.com/edgehls/edge/web"
)

// createUpload asks the API for a stream to upload to and returns its id
// and the tus creation URL on the test server.
func (e *env) createUpload(t *testing.T, title string) (string, string) {
	t.Helper()
	r := e.api(t, "POST", "/api/v1/streams", e.token, `{"title":"`+title+`"}`)
	var body struct {
		ID        string `json:"id"`
		Status    string `json:"status"`
		UploadURL string `json:"upload_url"`
	}
	decode(t, r.body, &body)
	if r.code != 201 || body.Status != "uploading" || body.UploadURL != "https://edge.example/uploads/?stream="+body.ID {
		t.Fatalf("create for upload: %d %s", r.code, r.body)
	}
	return body.ID, strings.Replace(body.UploadURL, "https://edge.example", e.srv.URL, 1)
}

func tusReq(t *testing.T, method, url, token string, hdr map[string]string, body []byte) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Tus-Resumable", "1.0.0")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func meta(filename string) string {
	return "filename " + base64.StdEncoding.EncodeToString([]byte(filename))
}

// uploadEnv is an env whose uploads go to the named backend: "file" (tusd
// stages in a folder, then edge copies to storage) or "s3" (tusd writes
// straight to versitygw, under the prefix "edge/").
func uploadEnv(t *testing.T, backend string) (*env, *storagetest.S3Server) {
	if backend == "file" {
		return newEnv(t, nil), nil
	}
	srv := storagetest.StartS3(t)
	bucket := srv.Store(t, "edge")
	return newEnv(t, nil, func(c *web.Config) { c.Jobs.Uploads = bucket }), srv
}

// TestResumableUpload: the connection drops a third of the way through a
// PATCH; the client asks where it stopped and sends the rest. The stored
// file is the original, byte for byte, alone in its folder, and the stream
// is queued.
func TestResumableUpload(t *testing.T) {
	for _, backend := range []string{"file", "s3"} {
		t.Run(backend, func(t *testing.T) {
			e, _ := uploadEnv(t, backend)
			src := filepath.Join(t.TempDir(), "phone.mov")
			hlstest.MakeSource(t, src, 3, "640x360", true)
			data, _ := os.ReadFile(src)
			id, createURL := e.createUpload(t, "Phone video")

			resp := tusReq(t, "POST", createURL, e.token, map[string]string{
				"Upload-Length": strconv.Itoa(len(data)), "Upload-Metadata": meta("My Phone Video (1).mov")}, nil)
			loc := resp.Header.Get("Location")
			if resp.StatusCode != 201 || !strings.Contains(loc, "/uploads/"+id) {
				t.Fatalf("create: %d %q", resp.StatusCode, loc)
			}
			cutPatch(t, loc, data[:len(data)/3], len(data))
			resume(t, loc, data, len(data)/3)

			st, _ := e.db.Stream(context.Background(), id)
			if st.Status != db.StatusQueued || st.SourceKey != "uploads/"+id+"/My_Phone_Video_1.mov" {
				t.Fatalf("after upload: %+v", st)
			}
			if stored := readAll(t, e.uploads, st.SourceKey); sha256.Sum256(stored) != sha256.Sum256(data) {
				t.Fatalf("stored %d bytes that differ from the original %d", len(stored), len(data))
			}
			if keys := listKeys(t, e.uploads, "uploads/"+id+"/"); len(keys) != 1 {
				t.Fatalf("upload folder holds %v, want the source alone", keys)
			}
			if resp := tusReq(t, "POST", createURL, e.token, map[string]string{"Upload-Length": "10"}, nil); resp.StatusCode != 409 {
				t.Fatalf("second upload to a queued stream: %d", resp.StatusCode)
			}
		})
	}
}

// resume asks where an interrupted upload stopped (at most sent bytes in)
// and sends the rest.
func resume(t *testing.T, loc string, data []byte, sent int) {
	t.Helper()
	var offset int
	for deadline := time.Now().Add(5 * time.Second); offset == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		offset, _ = strconv.Atoi(tusReq(t, "HEAD", loc, "", nil, nil).Header.Get("Upload-Offset"))
	}
	if offset <= 0 || offset > sent {
		t.Fatalf("offset after the drop: %d of %d sent", offset, sent)
	}
	resp := tusReq(t, "PATCH", loc, "", map[string]string{"Upload-Offset": strconv.Itoa(offset),
		"Content-Type": "application/offset+octet-stream"}, data[offset:])
	if resp.StatusCode != 204 {
		t.Fatalf("resume: %d", resp.StatusCode)
	}
}

func readAll(t *testing.T, s storage.Store, key string) []byte {
	t.Helper()
	obj, err := s.Get(context.Background(), key, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	b, err := io.ReadAll(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func listKeys(t *testing.T, s storage.Store, prefix string) []string {
	t.Helper()
	objects, err := s.List(context.Background(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objects {
		keys = append(keys, o.Key)
	}
	return keys
}

// cutPatch sends a PATCH announcing the whole rest but hangs up after part.
func cutPatch(t *testing.T, loc string, part []byte, total int) {
	t.Helper()
	u := strings.TrimPrefix(loc, "http://")
	host, path, _ := strings.Cut(u, "/")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PATCH /%s HTTP/1.1\r\nHost: %s\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"+
		"Content-Type: application/offset+octet-stream\r\nContent-Length: %d\r\n\r\n", path, host, total)
	conn.Write(part)
	time.Sleep(200 * time.Millisecond)
	conn.Close()
}

func TestUploadThatIsNotAVideoFailsTheStream(t *testing.T) {
	for _, backend := range []string{"file", "s3"} {
		t.Run(backend, func(t *testing.T) {
			e, _ := uploadEnv(t, backend)
			id, createURL := e.createUpload(t, "Notes")
			data := []byte("quarterly notes, not a video at all")
			loc := tusReq(t, "POST", createURL, e.token, map[string]string{"Upload-Length": strconv.Itoa(len(data)), "Upload-Metadata": meta("notes.mov")}, nil).Header.Get("Location")
			if r := tusReq(t, "PATCH", loc, "", map[string]string{"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}, data); r.StatusCode != 204 {
				t.Fatalf("patch: %d", r.StatusCode)
			}
			st, _ := e.db.Stream(context.Background(), id)
			if st.Status != db.StatusFailed || st.Error != "notes.mov is a text file, not a video" {
				t.Fatalf("stream: %s %q", st.Status, st.Error)
			}
			if keys := listKeys(t, e.uploads, "uploads/"+id+"/"); len(keys) != 0 {
				t.Fatalf("the refused file is still kept: %v", keys)
			}
		})
	}
}

func TestUploadRefusals(t *testing.T) {
	e := newEnv(t, nil)
	_, createURL := e.createUpload(t, "x")
	for _, tc := range []struct {
		name, url, token string
		length           string
		code             int
	}{
		{"no credentials", createURL, "", "10", 401},
		{"bad token", createURL, "edge_nope", "10", 401},
		{"unknown stream", e.srv.URL + "/uploads/?stream=nope", e.token, "10", 404},
		{"too large", createURL, e.token, strconv.Itoa(65 << 20), 413},
	} {
		if r := tusReq(t, "POST", tc.url, tc.token, map[string]string{"Upload-Length": tc.length}, nil); r.StatusCode != tc.code {
			t.Errorf("%s: %d, want %d", tc.name, r.StatusCode, tc.code)
		}
	}
}

func TestAbandonedUploadsExpire(t *testing.T) {
	for _, backend := range []string{"file", "s3"} {
		t.Run(backend, func(t *testing.T) {
			e, s3srv := uploadEnv(t, backend)
			ctx := context.Background()
			id, createURL := e.createUpload(t, "left half-way")
			loc := tusReq(t, "POST", createURL, e.token, map[string]string{"Upload-Length": "1000"}, nil).Header.Get("Location")
			tusReq(t, "PATCH", loc, "", map[string]string{"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}, make([]byte, 400))
			keep, _ := e.db.CreateStream(ctx, db.NewStream{Title: "ready one", Status: db.StatusQueued})

			if err := e.server.ExpireUploads(ctx, time.Now().Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			if _, err := e.db.Stream(ctx, id); err != nil {
				t.Fatal("a recent upload was expired")
			}
			if s3srv != nil && len(pendingMultipart(t, s3srv)) != 1 {
				t.Fatal("a recent upload's parts were aborted")
			}
			if err := e.server.ExpireUploads(ctx, time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if _, err := e.db.Stream(ctx, id); err == nil {
				t.Fatal("the abandoned upload's stream is still there")
			}
			if r := tusReq(t, "HEAD", loc, "", nil, nil); r.StatusCode != 404 {
				t.Fatalf("its staged bytes are still there: HEAD %d", r.StatusCode)
			}
			if keys := listKeys(t, e.uploads, "uploads/"); len(keys) != 0 {
				t.Fatalf("upload storage still holds %v", keys)
			}
			if s3srv != nil {
				if left := pendingMultipart(t, s3srv); len(left) != 0 {
					t.Fatalf("multipart uploads left in the bucket: %v", left)
				}
			}
			if _, err := e.db.Stream(ctx, keep.ID); err != nil {
				t.Fatal("a stream that was not uploading was expired")
			}
		})
	}
}

// pendingMultipart lists the bucket's unfinished multipart uploads by key.
func pendingMultipart(t *testing.T, srv *storagetest.S3Server) []string {
	t.Helper()
	out, err := srv.Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &srv.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, *u.Key)
	}
	return keys
}

// TestDeferredLengthIsRefused: an upload must say its length up front, or
// it could run past EDGE_UPLOAD_MAX_BYTES.
func TestDeferredLengthIsRefused(t *testing.T) {
	e := newEnv(t, nil)
	_, createURL := e.createUpload(t, "x")
	if r := tusReq(t, "POST", createURL, e.token, map[string]string{"Upload-Defer-Length": "1"}, nil); r.StatusCode != 400 {
		t.Fatalf("deferred length: %d, want 400", r.StatusCode)
	}
}

// TestFailedHandOverIsTakenUpAgain: an upload that arrived whole while its
// hand-over failed (here ffprobe killed every time) is neither refused nor
// lost: the client hears it need not resend, the stream waits, and the
// next pass (at start, then every 30 s) queues it with the file intact.
func TestFailedHandOverIsTakenUpAgain(t *testing.T) {
	for _, backend := range []string{"file", "s3"} {
		t.Run(backend, func(t *testing.T) {
			e, _ := uploadEnv(t, backend)
			src := filepath.Join(t.TempDir(), "talk.mov")
			hlstest.MakeSource(t, src, 2, "320x240", true)
			data, _ := os.ReadFile(src)
			id, createURL := e.createUpload(t, "Talk")
			loc := tusReq(t, "POST", createURL, e.token, map[string]string{
				"Upload-Length": strconv.Itoa(len(data)), "Upload-Metadata": meta("talk.mov")}, nil).Header.Get("Location")
			// ffprobe is killed for the upload's three tries and the first
			// pass's three, then works.
			hlstest.KillingTool(t, "ffprobe", 2*3)
			r := tusReq(t, "PATCH", loc, "", map[string]string{"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}, data)
			if st, _ := e.db.Stream(context.Background(), id); r.StatusCode != 500 || st.Status != db.StatusUploading {
				t.Fatalf("failed hand-over: %d, stream %s %q", r.StatusCode, st.Status, st.Error)
			}
			if err := e.server.HandOverPendingUploads(context.Background()); err == nil {
				t.Fatal("a hand-over with ffprobe still broken reported success")
			}
			if err := e.server.HandOverPendingUploads(context.Background()); err != nil {
				t.Fatal(err)
			}
			st, _ := e.db.Stream(context.Background(), id)
			if st.Status != db.StatusQueued || st.SourceKey != "uploads/"+id+"/talk.mov" {
				t.Fatalf("after the next pass: %+v", st)
			}
			if stored := readAll(t, e.uploads, st.SourceKey); sha256.Sum256(stored) != sha256.Sum256(data) {
				t.Fatal("the stored source differs from the upload")
			}
			if keys := listKeys(t, e.uploads, "uploads/"+id+"/"); len(keys) != 1 {
				t.Fatalf("upload folder holds %v, want the source alone", keys)
			}
		})
	}
}
