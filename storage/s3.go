package storage

//lint:file-ignore SA1019 feature/s3/manager is deprecated for feature/s3/transfermanager, which is still v0.x (v0.5.9): the uploader stays until its successor is stable.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// S3Options configures an S3 store. Empty fields fall back to the AWS SDK's
// normal chain (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL_S3, profiles…).
type S3Options struct {
	Bucket    string
	Prefix    string // key prefix inside the bucket, "" or ending in "/"
	PathStyle bool   // for S3-compatible servers (versitygw, MinIO…)
	Endpoint  string
	Region    string
	AccessKey string
	SecretKey string
}

// S3Store keeps objects in an S3 bucket under a prefix.
type S3Store struct {
	client   *s3.Client
	uploader *manager.Uploader
	gets     *signedGets // nil: objects are read through the SDK's stack
	bucket   string
	prefix   string
}

// NewS3Store builds a client; it does not contact the bucket.
func NewS3Store(ctx context.Context, o S3Options) (*S3Store, error) {
	if o.Bucket == "" {
		return nil, errors.New("s3 store: bucket is empty")
	}
	if o.Prefix != "" && !strings.HasSuffix(o.Prefix, "/") {
		o.Prefix += "/"
	}
	cfg, err := config.LoadDefaultConfig(ctx, s3ConfigOptions(o)...)
	if err != nil {
		return nil, fmt.Errorf("s3 store: load AWS config: %w", err)
	}
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		so.UsePathStyle = o.PathStyle
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
	})
	return &S3Store{client: client, uploader: manager.NewUploader(client), gets: newSignedGets(ctx, client, o.Bucket),
		bucket: o.Bucket, prefix: o.Prefix}, nil
}

func s3ConfigOptions(o S3Options) []func(*config.LoadOptions) error {
	opts := []func(*config.LoadOptions) error{
		// S3-compatible servers do not all accept the SDK's default checksums.
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
		// The SDK keeps 10 idle connections per host; an edge's misses
		// come dozens at a time.
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConnsPerHost = originIdleConns
		})),
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.AccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(o.AccessKey, o.SecretKey, "")))
	}
	return opts
}

// Bucket and Prefix say where the store writes, for building s3:// URLs.
func (s *S3Store) Bucket() string { return s.bucket }
func (s *S3Store) Prefix() string { return s.prefix }

func (s *S3Store) Get(ctx context.Context, key string, rng *Range) (*Object, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if s.gets != nil {
		resp, err := s.gets.get(ctx, s.prefix+key, rng)
		if err != nil {
			return nil, s.wrap("get", key, err)
		}
		return responseObject(key, resp)
	}
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key)}
	if rng != nil {
		in.Range = aws.String(rng.Header())
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, s.wrap("get", key, err)
	}
	obj := &Object{Body: out.Body, Info: Info{
		Key:          key,
		Size:         aws.ToInt64(out.ContentLength),
		ETag:         aws.ToString(out.ETag),
		LastModified: aws.ToTime(out.LastModified),
		ContentType:  aws.ToString(out.ContentType),
	}}
	if out.ContentLength == nil {
		obj.Size = -1
	}
	if rng != nil && out.ContentRange != nil {
		cr, err := parseContentRange(*out.ContentRange)
		if err != nil {
			out.Body.Close()
			return nil, fmt.Errorf("s3 get %s: %w", key, err)
		}
		obj.Partial, obj.Size = cr, cr.Total
	}
	return obj, nil
}

func (s *S3Store) Head(ctx context.Context, key string) (Info, error) {
	if err := checkKey(key); err != nil {
		return Info{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key)})
	if err != nil {
		return Info{}, s.wrap("head", key, err)
	}
	return Info{
		Key:          key,
		Size:         aws.ToInt64(out.ContentLength),
		ETag:         aws.ToString(out.ETag),
		LastModified: aws.ToTime(out.LastModified),
		ContentType:  aws.ToString(out.ContentType),
	}, nil
}

// Put streams body through the SDK's multipart uploader, so size may be
// unknown and the body need not fit in memory.
func (s *S3Store) Put(ctx context.Context, key string, body io.Reader, _ int64) error {
	if err := checkKey(key); err != nil {
		return err
	}
	_, err := s.uploader.Upload(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key), Body: body})
	if err != nil {
		return s.wrap("put", key, err)
	}
	return nil
}

func (s *S3Store) List(ctx context.Context, prefix string) ([]Info, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	var out []Info
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(s.prefix + prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s.wrap("list", prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, Info{
				Key:          strings.TrimPrefix(aws.ToString(o.Key), s.prefix),
				Size:         aws.ToInt64(o.Size),
				ETag:         aws.ToString(o.ETag),
				LastModified: aws.ToTime(o.LastModified),
			})
		}
	}
	return out, nil
}

func (s *S3Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key)})
	if err != nil && !errors.Is(s.wrap("delete", key, err), ErrNotFound) {
		return s.wrap("delete", key, err)
	}
	return nil
}

// wrap turns the SDK's missing-object answers into ErrNotFound. A 403 stays
// an origin failure: it means bad credentials or policy, never "no video".
func (s *S3Store) wrap(op, key string, err error) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return fmt.Errorf("%w: %s", ErrNotFound, key)
		case "InvalidRange":
			return fmt.Errorf("%w: %s", ErrRangeNotSatisfiable, key)
		case "NoSuchBucket":
			return fmt.Errorf("s3 %s %s: bucket does not exist: %w", op, s.bucket, err)
		}
	}
	var respErr interface{ HTTPStatusCode() int }
	if errors.As(err, &respErr) {
		switch respErr.HTTPStatusCode() {
		case http.StatusNotFound:
			return fmt.Errorf("%w: %s", ErrNotFound, key)
		case http.StatusRequestedRangeNotSatisfiable:
			return fmt.Errorf("%w: %s", ErrRangeNotSatisfiable, key)
		}
	}
	return fmt.Errorf("s3 %s %s/%s%s: %w", op, s.bucket, s.prefix, key, err)
}
