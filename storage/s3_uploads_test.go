package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edgehls/edge/storage/storagetest"
)

// TestS3AbortUploads: only multipart uploads under the prefix and older
// than the cutoff are aborted.
func TestS3AbortUploads(t *testing.T) {
	srv := storagetest.StartS3(t)
	s := srv.Store(t, "edge")
	ctx := context.Background()
	for _, key := range []string{"edge/uploads/a/talk.mov", "edge/streams/a/big.ts"} {
		_, err := srv.Client().CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &srv.Bucket, Key: aws.String(key)})
		must(t, err)
	}
	if n, err := s.AbortUploads(ctx, "uploads/", time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("aborted %d recent uploads (%v)", n, err)
	}
	if n, err := s.AbortUploads(ctx, "uploads/", time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("aborted %d stale uploads, want 1 (%v)", n, err)
	}
	out, err := srv.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &srv.Bucket})
	must(t, err)
	if len(out.Uploads) != 1 || aws.ToString(out.Uploads[0].Key) != "edge/streams/a/big.ts" {
		t.Fatalf("left: %+v", out.Uploads)
	}
}
