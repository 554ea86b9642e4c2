// Command s3lib puts a library folder into a bucket of an S3 server
// (versitygw in bench/viewers.sh), through the AWS SDK as edge writes it,
// and lets anonymous viewers read its objects, so a cache that cannot
// sign requests (nginx's proxy_cache) can stand in front of the same
// origin as edge. Credentials come from the SDK's own variables.
//
//	s3lib -endpoint http://127.0.0.1:7070 -bucket media -dir lib
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edgehls/edge/storage"
)

func main() {
	endpoint := flag.String("endpoint", "", "S3 server URL (path-style)")
	bucket := flag.String("bucket", "media", "bucket to create and fill")
	dir := flag.String("dir", "", "folder whose files become the bucket's objects")
	flag.Parse()
	if *endpoint == "" || *dir == "" {
		log.Fatal("s3lib: -endpoint and -dir are required")
	}
	if err := run(context.Background(), *endpoint, *bucket, *dir); err != nil {
		log.Fatalf("s3lib: %v", err)
	}
}

func run(ctx context.Context, endpoint, bucket, dir string) error {
	store, err := storage.NewS3Store(ctx, storage.S3Options{Bucket: bucket, PathStyle: true, Endpoint: endpoint})
	if err != nil {
		return err
	}
	client := store.Client()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	if err := storage.PutDir(ctx, store, dir, ""); err != nil {
		return err
	}
	policy, err := publicRead(bucket)
	if err != nil {
		return err
	}
	if _, err := client.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(policy)}); err != nil {
		return fmt.Errorf("bucket policy: %w", err)
	}
	return nil
}

// publicRead lets anyone GET the bucket's objects, as a CDN origin's
// bucket policy does; nothing else is allowed.
func publicRead(bucket string) (string, error) {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":    "Allow",
			"Principal": "*",
			"Action":    []string{"s3:GetObject"},
			"Resource":  []string{"arn:aws:s3:::" + bucket + "/*"},
		}},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}
