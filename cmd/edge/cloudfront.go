package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edgehls/edge/cdn"
)

// cloudfrontCmd: edge cloudfront --bucket B --region R --account A
// [--prefix streams/] [--apply] prints the guide's CloudFront setup as JSON
// on stdout and what to do with it on stderr; with --apply it creates it.
func cloudfrontCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("edge cloudfront", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o cdn.Options
	fs.StringVar(&o.Bucket, "bucket", "", "the S3 bucket holding streams/ (required)")
	fs.StringVar(&o.Region, "region", getenv("AWS_REGION"), "the bucket's region [AWS_REGION]")
	fs.StringVar(&o.Account, "account", "", "your 12-digit AWS account id (required)")
	fs.StringVar(&o.Prefix, "prefix", "", "folder above streams/ in the bucket, such as edge/streams/")
	apply := fs.Bool("apply", false, "create everything through the CloudFront and S3 APIs (idempotent: a re-run finds what exists)")
	cors := fs.String("cors-origins", "*", "origins allowed to fetch streams, comma-separated, or * [EDGE_CORS_ORIGINS]")
	if v := getenv("EDGE_CORS_ORIGINS"); v != "" {
		*cors = v
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.Bucket == "" || o.Account == "" {
		return errors.New("cloudfront: --bucket and --account are required")
	}
	origins, err := parseOrigins(*cors)
	if err != nil {
		return fmt.Errorf("cloudfront: --cors-origins: %w", err)
	}
	o.CORSOrigins = origins
	setup, err := cdn.Build(o)
	if err != nil {
		return fmt.Errorf("cloudfront: %w", err)
	}
	if *apply {
		return applyCloudfront(ctx, setup, o, getenv, stdout, stderr)
	}
	out, err := setup.JSON()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, string(out))
	fmt.Fprint(stderr, strings.TrimLeft(`
Create these in order (each id feeds the next documents' ${…} placeholders):
  1. origin_access_control        aws cloudfront create-origin-access-control --origin-access-control-config …
  2. manifest_cache_policy        aws cloudfront create-cache-policy --cache-policy-config …
  3. cors_response_headers_policy aws cloudfront create-response-headers-policy --response-headers-policy-config …
  4. distribution                 aws cloudfront create-distribution --distribution-config …
  5. bucket_policy                aws s3api put-bucket-policy --bucket `+o.Bucket+` --policy …
Then run edge with EDGE_ORIGIN=https://<distribution domain>.
`+signedStreamsNote, "\n"))
	return nil
}

// signedStreamsNote says what the distribution means for private streams:
// it answers anyone who knows its domain, around edge's checks.
const signedStreamsNote = `Signed streams and allowed sites are enforced by edge, not by CloudFront: the distribution
serves every object to anyone who learns its domain, and edge does not sign its own requests to
CloudFront. With private streams, have edge read the bucket itself instead
(EDGE_ORIGIN=s3://<bucket>/<prefix>, with keys allowed s3:GetObject): the bucket stays private.
`

// applyCloudfront uses the AWS SDK's usual credentials and endpoints
// (AWS_ENDPOINT_URL_CLOUDFRONT and AWS_ENDPOINT_URL_S3 included).
func applyCloudfront(ctx context.Context, setup *cdn.Setup, o cdn.Options, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(o.Region))
	if err != nil {
		return fmt.Errorf("cloudfront: AWS configuration: %w", err)
	}
	pathStyle, _ := strconv.ParseBool(getenv("EDGE_S3_PATH_STYLE")) // as serve reads it
	clients := cdn.Clients{
		CloudFront: cloudfront.NewFromConfig(cfg),
		S3:         s3.NewFromConfig(cfg, func(so *s3.Options) { so.UsePathStyle = pathStyle }),
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	done, err := cdn.Apply(ctx, setup, o.Bucket, clients, log)
	if err != nil {
		return fmt.Errorf("cloudfront: %w", err)
	}
	fmt.Fprintf(stdout, "distribution %s\ndomain %s\nEDGE_ORIGIN=https://%s\n", done.DistributionID, done.DomainName, done.DomainName)
	fmt.Fprint(stderr, signedStreamsNote)
	return nil
}
