package main

import (
	"encoding/json"
	"strings"
	"testing"
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
