package storage

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// Open builds a store from a URL: file:///abs/dir, s3://bucket/prefix, or
// http(s)://host/prefix (read-only). pathStyle applies to s3:// only.
func Open(ctx context.Context, raw string, pathStyle bool) (Store, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", raw, err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("%q: a file URL needs three slashes (file:///path)", raw)
		}
		if u.Path == "" {
			return nil, fmt.Errorf("%q: empty folder", raw)
		}
		return NewFileStore(u.Path)
	case "s3":
		if u.Host == "" {
			return nil, fmt.Errorf("%q: no bucket (want s3://bucket/prefix)", raw)
		}
		return NewS3Store(ctx, S3Options{Bucket: u.Host, Prefix: strings.TrimPrefix(u.Path, "/"), PathStyle: pathStyle})
	case "http", "https":
		return NewHTTPStore(raw, nil)
	default:
		return nil, fmt.Errorf("%q: unsupported scheme (want file://, s3:// or https://)", raw)
	}
}
