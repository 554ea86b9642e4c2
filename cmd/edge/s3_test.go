package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edgehls/edge/storage/storagetest"
)

// TestServeFromS3WithSDKEnvironment configures the origin the way a user
// does: EDGE_ORIGIN=s3://bucket/prefix plus the AWS SDK's own variables.
func TestServeFromS3WithSDKEnvironment(t *testing.T) {
	s3srv := storagetest.StartS3(t)
	const playlist = "#EXTM3U\n#EXT-X-ENDLIST\n"
	_, err := s3srv.Client().PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(s3srv.Bucket), Key: aws.String("hls/streams/lecture/master.m3u8"), Body: strings.NewReader(playlist),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, secret string
		code         int
	}{
		{"right secret", s3srv.SecretKey, 200},
		{"wrong secret", "not-the-secret", 502},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_ACCESS_KEY_ID", s3srv.AccessKey)
			t.Setenv("AWS_SECRET_ACCESS_KEY", tc.secret)
			t.Setenv("AWS_REGION", s3srv.Region)
			t.Setenv("AWS_ENDPOINT_URL_S3", s3srv.Endpoint)
			base, _ := startServe(t, map[string]string{
				"EDGE_ORIGIN": "s3://" + s3srv.Bucket + "/hls", "EDGE_S3_PATH_STYLE": "true",
			})
			resp, err := http.Get(base + "/streams/lecture/master.m3u8")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.code || (tc.code == 200) != (string(body) == playlist) {
				t.Fatalf("%d %q, want %d", resp.StatusCode, body, tc.code)
			}
		})
	}
}
