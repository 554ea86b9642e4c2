package storage

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HTTPStore reads objects from an HTTP origin such as a CloudFront
// distribution: key k is fetched from base + k. It cannot write.
type HTTPStore struct {
	base   string
	client *http.Client
}

// NewHTTPStore serves keys below base (http:// or https://, any path prefix).
func NewHTTPStore(base string, client *http.Client) (*HTTPStore, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("http store: %q is not an http(s) URL", base)
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	if client == nil {
		client = &http.Client{Transport: originTransport()}
	}
	return &HTTPStore{base: base, client: client}, nil
}

// originIdleConns is how many idle connections to one origin host a store
// keeps: a busy edge has dozens of misses in flight at once, and every
// one past the idle pool costs a new connection (a TLS handshake to S3 or
// CloudFront) that is closed again when it ends.
const originIdleConns = 64

// originTransport keeps enough idle connections for a busy edge.
func originTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = originIdleConns
	t.ResponseHeaderTimeout = 30 * time.Second
	return t
}

func (s *HTTPStore) Get(ctx context.Context, key string, rng *Range) (*Object, error) {
	resp, err := s.do(ctx, http.MethodGet, key, rng)
	if err != nil {
		return nil, err
	}
	return responseObject(key, resp)
}

// responseObject is the object an origin's 200 or 206 answer carries.
func responseObject(key string, resp *http.Response) (*Object, error) {
	obj := &Object{Info: responseInfo(key, resp), Body: resp.Body}
	if resp.StatusCode == http.StatusPartialContent {
		cr, err := parseContentRange(resp.Header.Get("Content-Range"))
		if err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("get %s: %w", key, err)
		}
		obj.Partial, obj.Size = cr, cr.Total
	}
	return obj, nil
}

func (s *HTTPStore) Head(ctx context.Context, key string) (Info, error) {
	resp, err := s.do(ctx, http.MethodHead, key, nil)
	if err != nil {
		return Info{}, err
	}
	resp.Body.Close()
	return responseInfo(key, resp), nil
}

func (s *HTTPStore) Put(context.Context, string, io.Reader, int64) error { return ErrReadOnly }
func (s *HTTPStore) Delete(context.Context, string) error                { return ErrReadOnly }
func (s *HTTPStore) List(context.Context, string) ([]Info, error)        { return nil, ErrReadOnly }

func (s *HTTPStore) do(ctx context.Context, method, key string, rng *Range) (*http.Response, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+key, nil)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, key, err)
	}
	if rng != nil {
		req.Header.Set("Range", rng.Header())
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, key, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK || (rng != nil && resp.StatusCode == http.StatusPartialContent):
		return resp, nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %s", ErrRangeNotSatisfiable, key)
	default:
		resp.Body.Close()
		return nil, fmt.Errorf("%s %s: origin answered %s", method, key, resp.Status)
	}
}

func responseInfo(key string, resp *http.Response) Info {
	lm, _ := http.ParseTime(resp.Header.Get("Last-Modified"))
	size := resp.ContentLength
	if v, err := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64); err == nil {
		size = v
	}
	return Info{
		Key:          key,
		Size:         size,
		ETag:         resp.Header.Get("ETag"),
		LastModified: lm,
		ContentType:  resp.Header.Get("Content-Type"),
	}
}
