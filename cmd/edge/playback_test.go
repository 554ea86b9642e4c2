package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edgehls/edge/storage/storagetest"
)

// TestSecondEdgeEnforcesTheSameRules: edge A (portal, database) writes to
// a real S3 server; edge B, another process with no database of A's,
// serves from the same bucket and refuses and admits exactly as A says,
// following A's changes within its playlist TTL.
func TestSecondEdgeEnforcesTheSameRules(t *testing.T) {
	s3srv := storagetest.StartS3(t)
	t.Setenv("AWS_ACCESS_KEY_ID", s3srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3srv.SecretKey)
	t.Setenv("AWS_REGION", s3srv.Region)
	t.Setenv("AWS_ENDPOINT_URL_S3", s3srv.Endpoint)
	bucket := "s3://" + s3srv.Bucket + "/media"
	api, _ := scriptedEdge(t, map[string]string{"EDGE_STORAGE": bucket, "EDGE_S3_PATH_STYLE": "true", "EDGE_DATA_DIR": t.TempDir()})
	st := api("POST", "/api/v1/streams", `{"title":"Course","playback_policy":"signed"}`)
	id, _ := st["id"].(string)
	if id == "" || st["playback_policy"] != "signed" {
		t.Fatalf("create: %v", st)
	}
	for name, body := range map[string]string{
		"master.m3u8": "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p/stream.m3u8\n", "720p/segment-0.ts": "segment", "poster.jpg": "jpeg",
	} {
		if _, err := s3srv.Client().PutObject(context.Background(), &s3.PutObjectInput{
			Bucket: aws.String(s3srv.Bucket), Key: aws.String("media/streams/" + id + "/" + name), Body: strings.NewReader(body),
		}); err != nil {
			t.Fatal(err)
		}
	}
	tok, _ := api("POST", "/api/v1/streams/"+id+"/tokens", `{"ttl":600}`)["token"].(string)

	b, _ := edgeProcess(t, map[string]string{"EDGE_ORIGIN": bucket, "EDGE_S3_PATH_STYLE": "true",
		"EDGE_DATA_DIR": t.TempDir(), "EDGE_MANIFEST_TTL": "1s"})
	for _, name := range []string{"master.m3u8", "720p/segment-0.ts", "poster.jpg"} {
		if code, body := status(t, b+"/streams/"+id+"/"+name); code != 403 || body != "this video needs a signed link\n" {
			t.Fatalf("B, %s without a token: %d %q", name, code, body)
		}
		if code, _ := status(t, b+"/streams/"+tok+"/"+name); code != 200 {
			t.Fatalf("B, %s with A's token: %d", name, code)
		}
	}
	if code, _ := status(t, b+"/streams/"+tok[:len(tok)-3]+"AAA/master.m3u8"); code != 403 {
		t.Fatalf("B, a forged token: %d", code)
	}

	api("PATCH", "/api/v1/streams/"+id, `{"playback_policy":"public"}`)
	waitStatus(t, b+"/streams/"+id+"/master.m3u8", 200, "B follows A making the stream public")
	if r := api("DELETE", "/api/v1/streams/"+id, ""); len(r) != 0 {
		t.Fatalf("delete: %v", r)
	}
	waitStatus(t, b+"/streams/"+tok+"/720p/segment-0.ts", 404, "B forgets the stream A deleted")
}

// An edge that writes (EDGE_STORAGE) to storage another edge's database
// publishes to refuses to start instead of replacing its rules.
func TestSecondEdgeWritingTheSameStorageRefusesToStart(t *testing.T) {
	media := t.TempDir()
	first, _ := startServe(t, map[string]string{"EDGE_STORAGE": "file://" + media})
	status(t, first+"/healthz") // serving: it has published
	cfg, err := parseConfig(nil, env(map[string]string{"EDGE_STORAGE": "file://" + media, "EDGE_DATA_DIR": t.TempDir()}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// Should it start after all, it stops with the context and the check below fails.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ln)
	if err == nil || !strings.HasPrefix(err.Error(), "EDGE_STORAGE: ") || !strings.Contains(err.Error(), "EDGE_ORIGIN") {
		t.Fatalf("want an EDGE_STORAGE error naming EDGE_ORIGIN, got %v", err)
	}
}

func status(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitStatus polls until url answers code: another edge learns of a
// change within its playlist TTL, from the origin, with no call between.
func waitStatus(t *testing.T, url string, code int, what string) {
	t.Helper()
	var got int
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got, _ = status(t, url); got == code {
			return
		}
	}
	t.Fatalf("%s: still %d after 15 s", what, got)
}
