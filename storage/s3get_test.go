package storage_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/edgehls/edge/storage"
	"github.com/edgehls/edge/storage/storagetest"
)

// TestS3SignedGetsReadAwkwardKeys: keys that need escaping are signed as
// S3 checks them (versitygw verifies every signature).
func TestS3SignedGetsReadAwkwardKeys(t *testing.T) {
	srv := storagetest.StartS3(t)
	s := srv.Store(t, "")
	ctx := context.Background()
	for _, key := range []string{
		"streams/a b/segment 0.ts",
		"streams/a+b/x=y&z;q.ts",
		"streams/ünï/çødé.ts",
		"streams/a%20b/50%.ts",
		"streams/a~b/(1)*!'$,@.ts",
		"streams/a//b.ts",
	} {
		t.Run(key, func(t *testing.T) {
			must(t, s.Put(ctx, key, strings.NewReader(key), int64(len(key))))
			obj, err := s.Get(ctx, key, nil)
			must(t, err)
			if got := readAll(t, obj.Body); got != key {
				t.Fatalf("got %q", got)
			}
		})
	}
}

// TestS3SignedGetsOriginTrouble: what a GET does when S3, or something in
// front of it, answers other than with the object. The first `times`
// GETs get the answer; later ones reach versitygw.
func TestS3SignedGetsOriginTrouble(t *testing.T) {
	srv := storagetest.StartS3(t)
	const key = "streams/a/720p/segment-0.ts"
	must(t, srv.Store(t, "").Put(context.Background(), key, strings.NewReader(body), int64(len(body))))
	slowDown := `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`
	internal := `<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>`
	for _, tc := range []struct {
		name        string
		maxAttempts string // AWS_MAX_ATTEMPTS
		status      int
		body        string
		times       int
		wantGets    int64  // GETs that reached the fault
		wantErr     string // "" for the object
	}{
		{"one SlowDown is retried", "", http.StatusServiceUnavailable, slowDown, 1, 2, ""},
		{"one 500 is retried", "", http.StatusInternalServerError, internal, 1, 2, ""},
		{"SlowDown every time ends the read", "", http.StatusServiceUnavailable, slowDown, 99, 3, "503 Service Unavailable: SlowDown: Please reduce your request rate."},
		{"AWS_MAX_ATTEMPTS=1 does not retry", "1", http.StatusServiceUnavailable, slowDown, 1, 1, "SlowDown"},
		{"a 403 is not retried", "", http.StatusForbidden, `<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`, 99, 1, "AccessDenied"},
		{"a redirect is not followed", "", http.StatusTemporaryRedirect, `<Error><Code>TemporaryRedirect</Code></Error>`, 99, 1, "307 Temporary Redirect: TemporaryRedirect"},
		{"a proxy's page", "", http.StatusBadRequest, "<html>bad request</html>", 99, 1, "400 Bad Request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_MAX_ATTEMPTS", tc.maxAttempts)
			fault := faultyFront(t, srv.Endpoint, tc.status, tc.body, tc.times)
			s, err := storage.NewS3Store(context.Background(), storage.S3Options{Bucket: srv.Bucket, PathStyle: true,
				Endpoint: fault.url, Region: srv.Region, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
			must(t, err)
			obj, err := s.Get(context.Background(), key, nil)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Get: %v", err)
			case tc.wantErr == "":
				if got := readAll(t, obj.Body); got != body {
					t.Fatalf("got %q", got)
				}
			case err == nil || errors.Is(err, storage.ErrNotFound) || !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("Get = %v, want an origin error saying %q", err, tc.wantErr)
			}
			if n := fault.gets.Load(); n != tc.wantGets {
				t.Fatalf("%d GETs reached the origin, want %d", n, tc.wantGets)
			}
		})
	}
}

type faultFront struct {
	url  string
	gets atomic.Int64
}

// faultyFront answers the first `times` requests with status and body,
// and relays the rest to the S3 server at endpoint.
func faultyFront(t *testing.T, endpoint string, status int, body string, times int) *faultFront {
	target, err := url.Parse(endpoint)
	must(t, err)
	relay := httputil.NewSingleHostReverseProxy(target)
	f := &faultFront{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.gets.Add(1) <= int64(times) {
			if status/100 == 3 {
				w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
			}
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(status)
			w.Write([]byte(body))
			return
		}
		relay.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

// TestS3SignedGetsOnlyForSigV4Endpoints: a bucket whose endpoint asks for
// another auth scheme than SigV4 is read through the SDK, which signs for it.
func TestS3SignedGetsOnlyForSigV4Endpoints(t *testing.T) {
	for _, tc := range []struct {
		name, bucket, endpoint string
		signed                 bool
	}{
		{"a bucket on AWS", "media", "", true},
		{"a bucket on an S3-compatible server", "media", "http://127.0.0.1:9000", true},
		{"a directory bucket (S3 Express)", "media--use1-az4--x-s3", "", false},
		{"a multi-region access point", "arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := storage.NewS3Store(context.Background(), storage.S3Options{Bucket: tc.bucket, Endpoint: tc.endpoint,
				PathStyle: tc.endpoint != "", Region: "us-east-1", AccessKey: "key", SecretKey: "secret"})
			must(t, err)
			if storage.SignsGets(s) != tc.signed {
				t.Fatalf("signed gets: %v, want %v", storage.SignsGets(s), tc.signed)
			}
		})
	}
}
