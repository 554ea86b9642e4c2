package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/edgehls/edge/cdn"
)

// cloudfrontCmd: edge cloudfront --bucket B --region R --account A
// [--prefix streams/] prints the guide's CloudFront setup as JSON on stdout
// and what to do with it on stderr.
func cloudfrontCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("edge cloudfront", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o cdn.Options
	fs.StringVar(&o.Bucket, "bucket", "", "the S3 bucket holding streams/ (required)")
	fs.StringVar(&o.Region, "region", getenv("AWS_REGION"), "the bucket's region [AWS_REGION]")
	fs.StringVar(&o.Account, "account", "", "your 12-digit AWS account id (required)")
	fs.StringVar(&o.Prefix, "prefix", "", "folder above streams/ in the bucket, such as edge/streams/")
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
`, "\n"))
	return nil
}
