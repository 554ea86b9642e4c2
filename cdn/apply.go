package cdn

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Clients are the AWS APIs Apply uses.
type Clients struct {
	CloudFront *cloudfront.Client
	S3         *s3.Client
}

// Applied is what a user needs afterwards.
type Applied struct {
	DistributionID string
	DomainName     string
}

// Apply creates the setup in order, filling each placeholder with the id
// the step before returned. It is idempotent: every resource is looked up
// by name first, so a re-run (or a run after a failure) finds what exists.
func Apply(ctx context.Context, s *Setup, bucket string, c Clients, log *slog.Logger) (Applied, error) {
	steps := []struct {
		name string
		run  func() (string, error)
		fill func(id string)
	}{
		{"1 origin access control", func() (string, error) { return ensureOAC(ctx, c.CloudFront, s.OriginAccessControl) },
			func(id string) { s.Distribution.Origins.Items[0].OriginAccessControlId = aws.String(id) }},
		{"2 playlist cache policy", func() (string, error) { return ensureCachePolicy(ctx, c.CloudFront, s.ManifestCachePolicy) },
			func(id string) { s.Distribution.CacheBehaviors.Items[0].CachePolicyId = aws.String(id) }},
		{"3 CORS response headers policy", func() (string, error) { return ensureCORSPolicy(ctx, c.CloudFront, s.CORSHeadersPolicy) },
			func(id string) {
				s.Distribution.DefaultCacheBehavior.ResponseHeadersPolicyId = aws.String(id)
				s.Distribution.CacheBehaviors.Items[0].ResponseHeadersPolicyId = aws.String(id)
			}},
	}
	for _, st := range steps {
		id, err := st.run()
		if err != nil {
			return Applied{}, fmt.Errorf("step %s: %w", st.name, err)
		}
		log.Info("cloudfront step done", "step", st.name, "id", id)
		st.fill(id)
	}
	dist, err := ensureDistribution(ctx, c.CloudFront, s.Distribution)
	if err != nil {
		return Applied{}, fmt.Errorf("step 4 distribution: %w", err)
	}
	log.Info("cloudfront step done", "step", "4 distribution", "id", dist.DistributionID, "domain", dist.DomainName)
	if err := mergeBucketPolicy(ctx, c.S3, bucket, s.BucketPolicy, dist.DistributionID); err != nil {
		return Applied{}, fmt.Errorf("step 5 bucket policy: %w", err)
	}
	log.Info("cloudfront step done", "step", "5 bucket policy", "bucket", bucket)
	return dist, nil
}

// Each list is read page by page (Marker, NextMarker): an account with
// many resources has edge's on a later page, and missing it would create
// a duplicate.

func ensureOAC(ctx context.Context, cf *cloudfront.Client, cfg *types.OriginAccessControlConfig) (string, error) {
	for marker := (*string)(nil); ; {
		list, err := cf.ListOriginAccessControls(ctx, &cloudfront.ListOriginAccessControlsInput{Marker: marker})
		if err != nil {
			return "", err
		}
		l := list.OriginAccessControlList
		if l == nil {
			break
		}
		for _, o := range l.Items {
			if aws.ToString(o.Name) == aws.ToString(cfg.Name) {
				return aws.ToString(o.Id), nil
			}
		}
		if marker = l.NextMarker; !aws.ToBool(l.IsTruncated) || aws.ToString(marker) == "" {
			break
		}
	}
	out, err := cf.CreateOriginAccessControl(ctx, &cloudfront.CreateOriginAccessControlInput{OriginAccessControlConfig: cfg})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.OriginAccessControl.Id), nil
}

func ensureCachePolicy(ctx context.Context, cf *cloudfront.Client, cfg *types.CachePolicyConfig) (string, error) {
	for marker := (*string)(nil); ; {
		list, err := cf.ListCachePolicies(ctx, &cloudfront.ListCachePoliciesInput{Type: types.CachePolicyTypeCustom, Marker: marker})
		if err != nil {
			return "", err
		}
		l := list.CachePolicyList
		if l == nil {
			break
		}
		for _, p := range l.Items {
			if p.CachePolicy != nil && p.CachePolicy.CachePolicyConfig != nil && aws.ToString(p.CachePolicy.CachePolicyConfig.Name) == aws.ToString(cfg.Name) {
				return aws.ToString(p.CachePolicy.Id), nil
			}
		}
		if marker = l.NextMarker; aws.ToString(marker) == "" {
			break
		}
	}
	out, err := cf.CreateCachePolicy(ctx, &cloudfront.CreateCachePolicyInput{CachePolicyConfig: cfg})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.CachePolicy.Id), nil
}

func ensureCORSPolicy(ctx context.Context, cf *cloudfront.Client, cfg *types.ResponseHeadersPolicyConfig) (string, error) {
	for marker := (*string)(nil); ; {
		list, err := cf.ListResponseHeadersPolicies(ctx, &cloudfront.ListResponseHeadersPoliciesInput{Type: types.ResponseHeadersPolicyTypeCustom, Marker: marker})
		if err != nil {
			return "", err
		}
		l := list.ResponseHeadersPolicyList
		if l == nil {
			break
		}
		for _, p := range l.Items {
			if p.ResponseHeadersPolicy != nil && p.ResponseHeadersPolicy.ResponseHeadersPolicyConfig != nil &&
				aws.ToString(p.ResponseHeadersPolicy.ResponseHeadersPolicyConfig.Name) == aws.ToString(cfg.Name) {
				return aws.ToString(p.ResponseHeadersPolicy.Id), nil
			}
		}
		if marker = l.NextMarker; aws.ToString(marker) == "" {
			break
		}
	}
	out, err := cf.CreateResponseHeadersPolicy(ctx, &cloudfront.CreateResponseHeadersPolicyInput{ResponseHeadersPolicyConfig: cfg})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ResponseHeadersPolicy.Id), nil
}

// ensureDistribution finds edge's distribution by its comment, which names
// the bucket, or creates it.
func ensureDistribution(ctx context.Context, cf *cloudfront.Client, cfg *types.DistributionConfig) (Applied, error) {
	p := cloudfront.NewListDistributionsPaginator(cf, &cloudfront.ListDistributionsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return Applied{}, err
		}
		if page.DistributionList == nil {
			break
		}
		for _, d := range page.DistributionList.Items {
			if aws.ToString(d.Comment) == aws.ToString(cfg.Comment) {
				return Applied{aws.ToString(d.Id), aws.ToString(d.DomainName)}, nil
			}
		}
	}
	out, err := cf.CreateDistribution(ctx, &cloudfront.CreateDistributionInput{DistributionConfig: cfg})
	if err != nil {
		return Applied{}, err
	}
	return Applied{aws.ToString(out.Distribution.Id), aws.ToString(out.Distribution.DomainName)}, nil
}
