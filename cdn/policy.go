package cdn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// Policy is an IAM policy document (the SDK has no type for one).
type Policy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one IAM policy statement.
type Statement struct {
	Sid       string                       `json:"Sid"`
	Effect    string                       `json:"Effect"`
	Principal map[string]string            `json:"Principal"`
	Action    string                       `json:"Action"`
	Resource  string                       `json:"Resource"`
	Condition map[string]map[string]string `json:"Condition"`
}

// bucketPolicy admits only the distribution: GetObject on the streams, and
// ListBucket so a missing object is a 404 rather than a 403 (edge and
// players treat those differently).
func bucketPolicy(o Options) *Policy {
	onlyUs := map[string]map[string]string{"StringEquals": {
		"AWS:SourceArn": fmt.Sprintf("arn:aws:cloudfront::%s:distribution/%s", o.Account, DistributionID),
	}}
	cf := map[string]string{"Service": "cloudfront.amazonaws.com"}
	return &Policy{Version: "2012-10-17", Statement: []Statement{
		{Sid: edgeSid + "ReadStreams", Effect: "Allow", Principal: cf, Action: "s3:GetObject",
			Resource: fmt.Sprintf("arn:aws:s3:::%s/%sstreams/*", o.Bucket, trimStreams(o.Prefix)), Condition: onlyUs},
		{Sid: edgeSid + "ListForNotFound", Effect: "Allow", Principal: cf, Action: "s3:ListBucket",
			Resource: "arn:aws:s3:::" + o.Bucket, Condition: onlyUs},
	}}
}

// trimStreams turns a prefix "edge/streams/" into "edge/".
func trimStreams(prefix string) string {
	if p := originPath(prefix); p != "" {
		return p[1:] + "/"
	}
	return ""
}

// edgeSid starts the Sid of every statement edge writes, so a re-run
// replaces them and leaves the bucket owner's own statements alone.
const edgeSid = "EdgeCloudFront"

// mergeBucketPolicy adds edge's statements to the bucket's policy, keeping
// every statement that is not edge's: the bucket may already admit a
// backup role or another distribution.
func mergeBucketPolicy(ctx context.Context, c *s3.Client, bucket string, ours *Policy, distributionID string) error {
	doc := map[string]any{"Version": ours.Version}
	var kept []any
	out, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	var apiErr smithy.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchBucketPolicy":
	case err != nil:
		return fmt.Errorf("read the bucket's policy: %w", err)
	default:
		if err := json.Unmarshal([]byte(aws.ToString(out.Policy)), &doc); err != nil {
			return fmt.Errorf("read the bucket's policy: %w", err)
		}
		kept = othersStatements(doc["Statement"])
	}
	raw, _ := json.Marshal(ours.Statement)
	var mine []any
	json.Unmarshal([]byte(strings.ReplaceAll(string(raw), DistributionID, distributionID)), &mine)
	doc["Statement"] = append(kept, mine...)
	merged, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(string(merged))})
	return err
}

// othersStatements are a policy's statements (one, or a list) that are not
// edge's.
func othersStatements(v any) []any {
	list, ok := v.([]any)
	if !ok && v != nil {
		list = []any{v}
	}
	var kept []any
	for _, st := range list {
		if m, ok := st.(map[string]any); ok {
			if sid, _ := m["Sid"].(string); strings.HasPrefix(sid, edgeSid) {
				continue
			}
		}
		kept = append(kept, st)
	}
	return kept
}
