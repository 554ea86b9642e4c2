// Package cdn builds the CloudFront setup of the "HLS streaming with
// Ittybit and CloudFront" guide for a bucket: an Origin Access Control, a
// 10-second cache policy for playlists, a CORS response-headers policy, the
// distribution, and a bucket policy that admits only that distribution.
package cdn

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// CachingOptimized is AWS's managed cache policy for immutable objects.
const CachingOptimized = "658327ea-f89d-4fab-a63d-7e88639e58f6"

// Placeholders stand for ids that only exist once an earlier step ran;
// printing shows them, applying fills them.
const (
	OACID          = "${ORIGIN_ACCESS_CONTROL_ID}"
	ManifestPolicy = "${MANIFEST_CACHE_POLICY_ID}"
	CORSPolicy     = "${CORS_RESPONSE_HEADERS_POLICY_ID}"
	DistributionID = "${DISTRIBUTION_ID}"
)

// Options name the bucket and account.
type Options struct {
	Bucket      string
	Region      string
	Account     string
	Prefix      string   // where streams/ lives in the bucket, "" or ending in "/"
	CORSOrigins []string // default "*"
	ManifestTTL int64    // seconds, default 10
}

var (
	bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	regionName = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-\d$`)
	accountID  = regexp.MustCompile(`^\d{12}$`)
)

// Check reports the first bad option in a sentence a user can act on.
func (o Options) Check() error {
	switch {
	case !bucketName.MatchString(o.Bucket):
		return fmt.Errorf("--bucket %q is not an S3 bucket name", o.Bucket)
	case !regionName.MatchString(o.Region):
		return fmt.Errorf("--region %q is not an AWS region such as us-east-1", o.Region)
	case !accountID.MatchString(o.Account):
		return fmt.Errorf("--account %q is not a 12-digit AWS account id", o.Account)
	case o.Prefix != "" && (!strings.HasSuffix(o.Prefix, "/") || strings.HasPrefix(o.Prefix, "/") || strings.Contains(o.Prefix, "..")):
		return errors.New("--prefix must be a folder such as streams/ (no leading slash, trailing slash)")
	}
	return nil
}

// Setup is every document, in the order they are created.
type Setup struct {
	OriginAccessControl *types.OriginAccessControlConfig   `json:"origin_access_control"`
	ManifestCachePolicy *types.CachePolicyConfig           `json:"manifest_cache_policy"`
	CORSHeadersPolicy   *types.ResponseHeadersPolicyConfig `json:"cors_response_headers_policy"`
	Distribution        *types.DistributionConfig          `json:"distribution"`
	BucketPolicy        *Policy                            `json:"bucket_policy"`
}

// Build makes the documents.
func Build(o Options) (*Setup, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	if len(o.CORSOrigins) == 0 {
		o.CORSOrigins = []string{"*"}
	}
	if o.ManifestTTL <= 0 {
		o.ManifestTTL = 10
	}
	return &Setup{
		OriginAccessControl: &types.OriginAccessControlConfig{
			Name:                          aws.String(oacName(o.Bucket)),
			Description:                   aws.String("edge: CloudFront reads the private bucket " + o.Bucket),
			OriginAccessControlOriginType: types.OriginAccessControlOriginTypesS3,
			SigningBehavior:               types.OriginAccessControlSigningBehaviorsAlways,
			SigningProtocol:               types.OriginAccessControlSigningProtocolsSigv4,
		},
		ManifestCachePolicy: manifestPolicy(o),
		CORSHeadersPolicy:   corsPolicy(o),
		Distribution:        distribution(o),
		BucketPolicy:        bucketPolicy(o),
	}, nil
}

// oacNameMax is CloudFront's limit on an origin access control's name.
const oacNameMax = 64

// oacName is "edge-<bucket>", shortened with a hash of the whole name when
// a long bucket name would pass CloudFront's limit.
func oacName(bucket string) string {
	name := "edge-" + bucket
	if len(name) <= oacNameMax {
		return name
	}
	sum := sha256.Sum256([]byte(bucket))
	return name[:oacNameMax-9] + "-" + hex.EncodeToString(sum[:4])
}

func manifestPolicy(o Options) *types.CachePolicyConfig {
	ttl := aws.Int64(o.ManifestTTL)
	return &types.CachePolicyConfig{
		Name:       aws.String(fmt.Sprintf("edge-hls-playlists-%ds", o.ManifestTTL)),
		Comment:    aws.String("edge: HLS playlists (.m3u8) cached for the manifest TTL"),
		MinTTL:     ttl,
		DefaultTTL: ttl,
		MaxTTL:     ttl,
		ParametersInCacheKeyAndForwardedToOrigin: &types.ParametersInCacheKeyAndForwardedToOrigin{
			EnableAcceptEncodingGzip:   aws.Bool(true),
			EnableAcceptEncodingBrotli: aws.Bool(true),
			CookiesConfig:              &types.CachePolicyCookiesConfig{CookieBehavior: types.CachePolicyCookieBehaviorNone},
			HeadersConfig:              &types.CachePolicyHeadersConfig{HeaderBehavior: types.CachePolicyHeaderBehaviorNone},
			QueryStringsConfig:         &types.CachePolicyQueryStringsConfig{QueryStringBehavior: types.CachePolicyQueryStringBehaviorNone},
		},
	}
}

func corsPolicy(o Options) *types.ResponseHeadersPolicyConfig {
	methods := []types.ResponseHeadersPolicyAccessControlAllowMethodsValues{
		types.ResponseHeadersPolicyAccessControlAllowMethodsValuesGet,
		types.ResponseHeadersPolicyAccessControlAllowMethodsValuesHead,
		types.ResponseHeadersPolicyAccessControlAllowMethodsValuesOptions,
	}
	expose := []string{"Content-Length", "Content-Range", "Age"}
	return &types.ResponseHeadersPolicyConfig{
		Name:    aws.String("edge-hls-cors"),
		Comment: aws.String("edge: players on other sites may fetch playlists and segments"),
		CorsConfig: &types.ResponseHeadersPolicyCorsConfig{
			AccessControlAllowCredentials: aws.Bool(false),
			AccessControlAllowOrigins:     &types.ResponseHeadersPolicyAccessControlAllowOrigins{Items: o.CORSOrigins, Quantity: count(o.CORSOrigins)},
			AccessControlAllowMethods:     &types.ResponseHeadersPolicyAccessControlAllowMethods{Items: methods, Quantity: count(methods)},
			AccessControlAllowHeaders:     &types.ResponseHeadersPolicyAccessControlAllowHeaders{Items: []string{"*"}, Quantity: aws.Int32(1)},
			AccessControlExposeHeaders:    &types.ResponseHeadersPolicyAccessControlExposeHeaders{Items: expose, Quantity: count(expose)},
			AccessControlMaxAgeSec:        aws.Int32(86400),
			OriginOverride:                aws.Bool(true),
		},
	}
}

func distribution(o Options) *types.DistributionConfig {
	originID := "s3-" + o.Bucket
	// OPTIONS is allowed so CORS preflights reach the response-headers
	// policy; only GET and HEAD answers are cached.
	allowed := []types.Method{types.MethodGet, types.MethodHead, types.MethodOptions}
	getHead := []types.Method{types.MethodGet, types.MethodHead}
	methods := func() *types.AllowedMethods {
		return &types.AllowedMethods{Items: allowed, Quantity: count(allowed),
			CachedMethods: &types.CachedMethods{Items: getHead, Quantity: count(getHead)}}
	}
	origin := types.Origin{
		Id:                    aws.String(originID),
		DomainName:            aws.String(fmt.Sprintf("%s.s3.%s.amazonaws.com", o.Bucket, o.Region)),
		OriginPath:            aws.String(originPath(o.Prefix)),
		OriginAccessControlId: aws.String(OACID),
		S3OriginConfig:        &types.S3OriginConfig{OriginAccessIdentity: aws.String("")},
	}
	playlists := types.CacheBehavior{
		PathPattern: aws.String("*.m3u8"), TargetOriginId: aws.String(originID),
		ViewerProtocolPolicy: types.ViewerProtocolPolicyRedirectToHttps, AllowedMethods: methods(),
		CachePolicyId: aws.String(ManifestPolicy), ResponseHeadersPolicyId: aws.String(CORSPolicy), Compress: aws.Bool(true),
	}
	return &types.DistributionConfig{
		CallerReference: aws.String("edge-" + o.Bucket), // the same reference makes a re-run find, not duplicate
		Comment:         aws.String("edge: HLS streams from " + o.Bucket),
		Enabled:         aws.Bool(true),
		// "/" would otherwise list the bucket: the policy lets CloudFront
		// list so that a missing object is a 404, not a 403. This object
		// never exists, so "/" is a 404 too.
		DefaultRootObject: aws.String(noRootObject),
		HttpVersion:       types.HttpVersionHttp2and3,
		IsIPV6Enabled:     aws.Bool(true),
		PriceClass:        types.PriceClassPriceClassAll,
		Origins:           &types.Origins{Items: []types.Origin{origin}, Quantity: aws.Int32(1)},
		DefaultCacheBehavior: &types.DefaultCacheBehavior{
			TargetOriginId: aws.String(originID), ViewerProtocolPolicy: types.ViewerProtocolPolicyRedirectToHttps,
			AllowedMethods: methods(), CachePolicyId: aws.String(CachingOptimized),
			ResponseHeadersPolicyId: aws.String(CORSPolicy), Compress: aws.Bool(true),
		},
		CacheBehaviors: &types.CacheBehaviors{Items: []types.CacheBehavior{playlists}, Quantity: aws.Int32(1)},
	}
}

// noRootObject is what CloudFront serves for "/": nothing.
const noRootObject = "edge-no-index.html"

// originPath maps the viewer path /streams/… onto <prefix>streams/…: a
// prefix "edge/streams/" becomes the origin path "/edge".
func originPath(prefix string) string {
	p := strings.TrimSuffix(strings.TrimSuffix(prefix, "/"), "streams")
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return "/" + p
}

func count[T any](items []T) *int32 { return aws.Int32(int32(len(items))) }
