package cdn

import "fmt"

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
		{Sid: "EdgeCloudFrontReadStreams", Effect: "Allow", Principal: cf, Action: "s3:GetObject",
			Resource: fmt.Sprintf("arn:aws:s3:::%s/%sstreams/*", o.Bucket, trimStreams(o.Prefix)), Condition: onlyUs},
		{Sid: "EdgeCloudFrontListForNotFound", Effect: "Allow", Principal: cf, Action: "s3:ListBucket",
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
