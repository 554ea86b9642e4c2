package main

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/edgehls/edge/cdn/cdntest"
)

func TestCloudfrontCommand(t *testing.T) {
	out, err := runCmd(t, map[string]string{"AWS_REGION": "eu-west-1", "EDGE_CORS_ORIGINS": "https://school.example"}, "",
		"cloudfront", "--bucket", "lectures", "--account", "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	var docs map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &docs); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	for _, want := range []string{`"lectures.s3.eu-west-1.amazonaws.com"`, `"https://school.example"`, `"*.m3u8"`} {
		if !strings.Contains(out, want) {
			t.Errorf("setup lacks %s", want)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"cloudfront", "--account", "123456789012", "--region", "us-east-1"}, "--bucket and --account are required"},
		{[]string{"cloudfront", "--bucket", "b_b", "--account", "123456789012", "--region", "us-east-1"}, "not an S3 bucket name"},
		{[]string{"cloudfront", "--bucket", "bkt", "--account", "1", "--region", "us-east-1"}, "12-digit"},
		{[]string{"cloudfront", "--bucket", "bkt", "--account", "123456789012", "--region", "us-east-1", "--cors-origins", "ftp://x"}, "--cors-origins"},
	} {
		if _, err := runCmd(t, map[string]string{}, "", tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestCloudfrontApply runs --apply against a fake AWS endpoint: the first
// run creates everything in order, a second run finds it all and creates
// nothing, and a failing step is named.
func TestCloudfrontApply(t *testing.T) {
	fake := cdntest.Start(t)
	vars := map[string]string{}
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1",
		"AWS_ENDPOINT_URL_CLOUDFRONT": fake.URL, "AWS_ENDPOINT_URL_S3": fake.URL, "AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
	vars["EDGE_S3_PATH_STYLE"] = "true"
	args := []string{"cloudfront", "--bucket", "lectures", "--account", "123456789012", "--region", "us-east-1", "--apply"}
	out, err := runCmd(t, vars, "", args...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "EDGE_ORIGIN=https://d1.cloudfront.net") {
		t.Fatalf("output: %q", out)
	}
	for _, call := range []string{"POST /2020-05-31/origin-access-control", "POST /2020-05-31/cache-policy",
		"POST /2020-05-31/response-headers-policy", "POST /2020-05-31/distribution", "PUT /lectures"} {
		if fake.Count(call) != 1 {
			t.Errorf("%s made %d times", call, fake.Count(call))
		}
	}
	fake.Lock()
	dist := fake.Bodies["POST /2020-05-31/distribution"]
	fake.Unlock()
	for _, id := range []string{"<OriginAccessControlId>ORI-1<", "<CachePolicyId>CAC-1<", "<ResponseHeadersPolicyId>RES-1<", "<PathPattern>*.m3u8<"} {
		if !strings.Contains(dist, id) || strings.Contains(dist, "${") {
			t.Errorf("distribution request lacks %s or kept a placeholder", id)
		}
	}
	if p := fake.Policies["lectures"]; !strings.Contains(p, "arn:aws:cloudfront::123456789012:distribution/DIS-1") || strings.Contains(p, "${") {
		t.Fatalf("bucket policy: %s", p)
	}
	if _, err := runCmd(t, vars, "", args...); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"origin-access-control", "cache-policy", "response-headers-policy", "distribution"} {
		if n := fake.Count("POST /2020-05-31/" + kind); n != 1 {
			t.Errorf("re-run created another %s (%d in all)", kind, n)
		}
	}

	failing := cdntest.Start(t)
	failing.FailOn = "POST /2020-05-31/response-headers-policy"
	t.Setenv("AWS_ENDPOINT_URL_CLOUDFRONT", failing.URL)
	t.Setenv("AWS_ENDPOINT_URL_S3", failing.URL)
	if _, err := runCmd(t, vars, "", args...); err == nil || !strings.Contains(err.Error(), "step 3 CORS response headers policy") ||
		!strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("failing step: %v", err)
	}
	if failing.Count("POST /2020-05-31/distribution") != 0 {
		t.Fatal("went on after a failed step")
	}
}

// TestCloudfrontApplyPagesAndMerges: in an account with other resources,
// listed a page at a time, a re-run still finds edge's and creates none;
// the bucket's own policy statements are kept beside edge's, which a
// re-run replaces rather than repeats.
func TestCloudfrontApplyPagesAndMerges(t *testing.T) {
	fake := cdntest.Start(t)
	fake.PageSize = 1
	for _, kind := range []string{"origin-access-control", "cache-policy", "response-headers-policy", "distribution"} {
		fake.Add(kind, "someone-else-1")
		fake.Add(kind, "someone-else-2")
	}
	backup := `{"Sid":"BackupRole","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/backup"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::lectures/*"}`
	fake.Policies["lectures"] = `{"Version":"2012-10-17","Statement":` + backup + `}`
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1",
		"AWS_ENDPOINT_URL_CLOUDFRONT": fake.URL, "AWS_ENDPOINT_URL_S3": fake.URL, "AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
	vars := map[string]string{"EDGE_S3_PATH_STYLE": "true"}
	args := []string{"cloudfront", "--bucket", "lectures", "--account", "123456789012", "--region", "us-east-1", "--apply"}
	for run := range 2 {
		if _, err := runCmd(t, vars, "", args...); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}
	for _, kind := range []string{"origin-access-control", "cache-policy", "response-headers-policy", "distribution"} {
		if n := fake.Count("POST /2020-05-31/" + kind); n != 1 {
			t.Errorf("%s created %d times over two runs", kind, n)
		}
	}
	fake.Lock()
	policy := fake.Policies["lectures"]
	fake.Unlock()
	var doc struct{ Statement []map[string]any }
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		t.Fatal(err)
	}
	var sids []string
	for _, st := range doc.Statement {
		sids = append(sids, st["Sid"].(string))
	}
	if !slices.Equal(sids, []string{"BackupRole", "EdgeCloudFrontReadStreams", "EdgeCloudFrontListForNotFound"}) {
		t.Fatalf("merged policy statements: %v\n%s", sids, policy)
	}
}

// The printed setup says that a distribution is public to whoever knows
// its domain, and how to keep private streams private.
func TestCloudfrontWarnsAboutPrivateStreams(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"cloudfront", "--bucket", "my-stream-bucket", "--region", "us-east-1", "--account", "123456789012"}, env(nil), nil, &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "EDGE_ORIGIN=s3://<bucket>/<prefix>") || !strings.Contains(errOut.String(), "Signed streams") {
		t.Fatalf("no word on private streams:\n%s", errOut.String())
	}
}
