package cdn_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/edgehls/edge/cdn"
)

// strict decodes one printed document into its SDK shape, refusing any
// field the shape does not have.
func strict(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%T: %v\n%s", v, err, raw)
	}
}

func TestPrintedDocumentsFitTheSDKShapes(t *testing.T) {
	setup, err := cdn.Build(cdn.Options{Bucket: "my-stream-bucket", Region: "us-east-1", Account: "123456789012", Prefix: "edge/streams/"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := setup.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var docs map[string]json.RawMessage
	if err := json.Unmarshal(out, &docs); err != nil || len(docs) != 5 || bytes.Contains(out, []byte("null")) {
		t.Fatalf("printed setup: %v\n%s", err, out)
	}

	var oac types.OriginAccessControlConfig
	strict(t, docs["origin_access_control"], &oac)
	if oac.SigningBehavior != types.OriginAccessControlSigningBehaviorsAlways || oac.OriginAccessControlOriginType != types.OriginAccessControlOriginTypesS3 {
		t.Errorf("OAC: %+v", oac)
	}

	var manifest types.CachePolicyConfig
	strict(t, docs["manifest_cache_policy"], &manifest)
	if aws.ToInt64(manifest.MinTTL) != 10 || aws.ToInt64(manifest.DefaultTTL) != 10 || aws.ToInt64(manifest.MaxTTL) != 10 {
		t.Errorf("playlist TTLs: %v %v %v", *manifest.MinTTL, *manifest.DefaultTTL, *manifest.MaxTTL)
	}

	var cors types.ResponseHeadersPolicyConfig
	strict(t, docs["cors_response_headers_policy"], &cors)
	c := cors.CorsConfig
	if !slices.Equal(c.AccessControlExposeHeaders.Items, []string{"Content-Length", "Content-Range", "Age"}) ||
		aws.ToInt32(c.AccessControlExposeHeaders.Quantity) != 3 || !slices.Equal(c.AccessControlAllowOrigins.Items, []string{"*"}) ||
		aws.ToInt32(c.AccessControlMaxAgeSec) != 86400 {
		t.Errorf("CORS: %+v", c)
	}

	var dist types.DistributionConfig
	strict(t, docs["distribution"], &dist)
	def, pl := dist.DefaultCacheBehavior, dist.CacheBehaviors.Items[0]
	origin := dist.Origins.Items[0]
	if aws.ToString(def.CachePolicyId) != cdn.CachingOptimized || aws.ToString(def.ResponseHeadersPolicyId) != cdn.CORSPolicy ||
		def.ViewerProtocolPolicy != types.ViewerProtocolPolicyRedirectToHttps ||
		!slices.Equal(def.AllowedMethods.Items, []types.Method{types.MethodGet, types.MethodHead, types.MethodOptions}) ||
		!slices.Equal(def.AllowedMethods.CachedMethods.Items, []types.Method{types.MethodGet, types.MethodHead}) {
		t.Errorf("default behaviour (segments): %+v", def)
	}
	// "/" must not list the bucket (CloudFront may list, for 404s).
	if root := aws.ToString(dist.DefaultRootObject); root == "" || strings.Contains(root, "/") {
		t.Errorf("default root object %q", root)
	}
	if aws.ToString(pl.PathPattern) != "*.m3u8" || aws.ToString(pl.CachePolicyId) != cdn.ManifestPolicy ||
		aws.ToString(pl.ResponseHeadersPolicyId) != cdn.CORSPolicy || pl.ViewerProtocolPolicy != types.ViewerProtocolPolicyRedirectToHttps {
		t.Errorf("playlist behaviour: %+v", pl)
	}
	if aws.ToString(origin.DomainName) != "my-stream-bucket.s3.us-east-1.amazonaws.com" || aws.ToString(origin.OriginPath) != "/edge" ||
		aws.ToString(origin.OriginAccessControlId) != cdn.OACID || aws.ToString(dist.CallerReference) != "edge-my-stream-bucket" {
		t.Errorf("origin: %+v", origin)
	}

	var policy cdn.Policy
	strict(t, docs["bucket_policy"], &policy)
	get := policy.Statement[0]
	if get.Action != "s3:GetObject" || get.Resource != "arn:aws:s3:::my-stream-bucket/edge/streams/*" ||
		get.Condition["StringEquals"]["AWS:SourceArn"] != "arn:aws:cloudfront::123456789012:distribution/"+cdn.DistributionID ||
		get.Principal["Service"] != "cloudfront.amazonaws.com" || policy.Statement[1].Action != "s3:ListBucket" {
		t.Errorf("bucket policy: %+v", policy)
	}
}

func TestOriginPathFollowsThePrefix(t *testing.T) {
	for prefix, want := range map[string]string{"": "", "streams/": "", "edge/streams/": "/edge", "a/b/streams/": "/a/b"} {
		s, err := cdn.Build(cdn.Options{Bucket: "bkt", Region: "eu-west-1", Account: "123456789012", Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(s.Distribution.Origins.Items[0].OriginPath); got != want {
			t.Errorf("prefix %q: origin path %q, want %q", prefix, got, want)
		}
	}
}

func TestOptionsAreChecked(t *testing.T) {
	good := cdn.Options{Bucket: "bkt", Region: "us-east-1", Account: "123456789012"}
	for _, tc := range []struct {
		change func(*cdn.Options)
		want   string
	}{
		{func(o *cdn.Options) { o.Bucket = "Bad_Bucket" }, "--bucket"},
		{func(o *cdn.Options) { o.Region = "mars" }, "--region"},
		{func(o *cdn.Options) { o.Account = "12345" }, "--account"},
		{func(o *cdn.Options) { o.Prefix = "/streams" }, "--prefix"},
	} {
		o := good
		tc.change(&o)
		if _, err := cdn.Build(o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

// TestDocumentsValidateAgainstAWSModel runs AWS's own parameter validator
// (the AWS SDK for JavaScript, with AWS's CloudFront API model) over the
// printed documents: required members, types, enums, lengths, patterns.
// A missing Node.js or model fails the test: `make test-deps` installs them.
func TestDocumentsValidateAgainstAWSModel(t *testing.T) {
	validator, err := filepath.Abs("../scripts/awsmodel/validate.js")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(validator), "node_modules", "aws-sdk")); err != nil {
		t.Fatal("AWS's model is not installed: run `make test-deps`")
	}
	long := strings.Repeat("b", 63) // the longest bucket name
	for _, o := range []cdn.Options{
		{Bucket: "my-stream-bucket", Region: "us-east-1", Account: "123456789012"},
		{Bucket: long, Region: "eu-west-1", Account: "123456789012", Prefix: "edge/streams/", CORSOrigins: []string{"https://school.example"}},
	} {
		setup, err := cdn.Build(o)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(*setup.OriginAccessControl.Name); n > 64 {
			t.Errorf("origin access control name of %d characters: CloudFront takes 64", n)
		}
		out, _ := setup.JSON()
		file := filepath.Join(t.TempDir(), "setup.json")
		os.WriteFile(file, out, 0o644)
		res, err := exec.Command("node", validator, file).CombinedOutput()
		if err != nil {
			t.Fatalf("bucket %s: %v\n%s", o.Bucket, err, res)
		}
	}
}
