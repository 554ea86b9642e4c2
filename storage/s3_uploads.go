package storage

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// What resumable uploads need from a bucket beyond the Store interface:
// tusd's S3 store talks to the client itself, and parts of uploads nobody
// finished are aborted, since S3 bills for them and lists them nowhere else.

// Client is the SDK client, for tusd's S3 store.
func (s *S3Store) Client() *s3.Client { return s.client }

// AbortUploads aborts the multipart uploads under prefix begun before
// cutoff and says how many there were.
func (s *S3Store) AbortUploads(ctx context.Context, prefix string, cutoff time.Time) (int, error) {
	if err := checkPrefix(prefix); err != nil {
		return 0, err
	}
	in := &s3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: aws.String(s.prefix + prefix)}
	aborted := 0
	for {
		page, err := s.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return aborted, s.wrap("list uploads", prefix, err)
		}
		for _, u := range page.Uploads {
			if u.Initiated == nil || !u.Initiated.Before(cutoff) {
				continue
			}
			if _, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
				Bucket: &s.bucket, Key: u.Key, UploadId: u.UploadId}); err != nil {
				return aborted, s.wrap("abort upload", aws.ToString(u.Key), err)
			}
			aborted++
		}
		if !aws.ToBool(page.IsTruncated) {
			return aborted, nil
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
}
