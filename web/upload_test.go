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

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/hlstest"
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

// TestResumableUpload: the connection drops a third of the way through a
// PATCH; the client asks where it stopped and sends the rest. The stored
// file is the original, byte for byte, and the stream is queued.
func TestResumableUpload(t *testing.T) {
	e := newEnv(t, nil)
	src := filepath.Join(t.TempDir(), "phone.mov")
	hlstest.MakeSource(t, src, 3, "640x360", true)
	data, _ := os.ReadFile(src)
	id, createURL := e.createUpload(t, "Phone video")

	resp := tusReq(t, "POST", createURL, e.token, map[string]string{
		"Upload-Length": strconv.Itoa(len(data)), "Upload-Metadata": meta("My Phone Video (1).mov")}, nil)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 201 || !strings.Contains(loc, "/uploads/"+id+"-") {
		t.Fatalf("create: %d %q", resp.StatusCode, loc)
	}

	cutPatch(t, loc, data[:len(data)/3], len(data))
	var offset int
	for deadline := time.Now().Add(5 * time.Second); offset == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		offset, _ = strconv.Atoi(tusReq(t, "HEAD", loc, "", nil, nil).Header.Get("Upload-Offset"))
	}
	if offset <= 0 || offset > len(data)/3 {
		t.Fatalf("offset after the drop: %d of %d sent", offset, len(data)/3)
	}
	resp = tusReq(t, "PATCH", loc, "", map[string]string{"Upload-Offset": strconv.Itoa(offset),
		"Content-Type": "application/offset+octet-stream"}, data[offset:])
	if resp.StatusCode != 204 {
		t.Fatalf("resume: %d", resp.StatusCode)
	}

	st, _ := e.db.Stream(context.Background(), id)
	if st.Status != db.StatusQueued || st.SourceKey != "uploads/"+id+"/My_Phone_Video_1.mov" {
		t.Fatalf("after upload: %+v", st)
	}
	obj, err := e.store.Get(context.Background(), st.SourceKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if sha256.Sum256(stored) != sha256.Sum256(data) {
		t.Fatalf("stored %d bytes that differ from the original %d", len(stored), len(data))
	}
	if resp := tusReq(t, "POST", createURL, e.token, map[string]string{"Upload-Length": "10"}, nil); resp.StatusCode != 409 {
		t.Fatalf("second upload to a queued stream: %d", resp.StatusCode)
	}
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
	e := newEnv(t, nil)
	id, createURL := e.createUpload(t, "Notes")
	data := []byte("quarterly notes, not a video at all")
	loc := tusReq(t, "POST", createURL, e.token, map[string]string{"Upload-Length": strconv.Itoa(len(data)), "Upload-Metadata": meta("notes.mov")}, nil).Header.Get("Location")
	if r := tusReq(t, "PATCH", loc, "", map[string]string{"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}, data); r.StatusCode != 204 {
		t.Fatalf("patch: %d", r.StatusCode)
	}
	st, _ := e.db.Stream(context.Background(), id)
	if st.Status != db.StatusFailed || st.Error != "notes.mov is not a video edge can read" {
		t.Fatalf("stream: %s %q", st.Status, st.Error)
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
	e := newEnv(t, nil)
	id, createURL := e.createUpload(t, "left half-way")
	loc := tusReq(t, "POST", createURL, e.token, map[string]string{"Upload-Length": "1000"}, nil).Header.Get("Location")
	tusReq(t, "PATCH", loc, "", map[string]string{"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}, make([]byte, 400))
	keep, _ := e.db.CreateStream(context.Background(), db.NewStream{Title: "ready one", Status: db.StatusQueued})

	if err := e.server.ExpireUploads(context.Background(), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Stream(context.Background(), id); err != nil {
		t.Fatal("a recent upload was expired")
	}
	if err := e.server.ExpireUploads(context.Background(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Stream(context.Background(), id); err == nil {
		t.Fatal("the abandoned upload's stream is still there")
	}
	if r := tusReq(t, "HEAD", loc, "", nil, nil); r.StatusCode != 404 {
		t.Fatalf("its staged bytes are still there: HEAD %d", r.StatusCode)
	}
	if _, err := e.db.Stream(context.Background(), keep.ID); err != nil {
		t.Fatal("a stream that was not uploading was expired")
	}
}
