package storage_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/edgehls/edge/storage"
	"github.com/edgehls/edge/storage/storagetest"
)

const body = "0123456789abcdefghij"

// conformance checks the behaviour every writable store shares.
func conformance(t *testing.T, s storage.Store) {
	ctx := context.Background()
	must(t, s.Put(ctx, "streams/a/720p/segment-0.ts", strings.NewReader(body), int64(len(body))))
	must(t, s.Put(ctx, "streams/a/master.m3u8", strings.NewReader("#EXTM3U\n"), -1))
	must(t, s.Put(ctx, "streams/ab/master.m3u8", strings.NewReader("#EXTM3U\n"), -1))

	t.Run("get whole", func(t *testing.T) {
		obj, err := s.Get(ctx, "streams/a/720p/segment-0.ts", nil)
		must(t, err)
		if got := readAll(t, obj.Body); got != body || obj.Size != int64(len(body)) || obj.ETag == "" {
			t.Fatalf("got %q size %d etag %q", got, obj.Size, obj.ETag)
		}
	})
	t.Run("get range", func(t *testing.T) {
		whole, err := s.Get(ctx, "streams/a/720p/segment-0.ts", nil)
		must(t, err)
		whole.Body.Close()
		for _, tc := range []struct {
			rng        storage.Range
			want       string
			start, end int64
		}{
			{storage.Range{Start: 2, End: 5}, "2345", 2, 5},
			{storage.Range{Start: 15, End: -1}, "fghij", 15, 19},
			{storage.Range{Start: 18, End: 99}, "ij", 18, 19},
		} {
			obj, err := s.Get(ctx, "streams/a/720p/segment-0.ts", &tc.rng)
			must(t, err)
			got := readAll(t, obj.Body)
			if got != tc.want || obj.Partial == nil || obj.Partial.Start != tc.start || obj.Partial.End != tc.end || obj.Size != 20 {
				t.Errorf("%v: got %q partial %+v size %d", tc.rng, got, obj.Partial, obj.Size)
			}
			// The proxy takes up a broken body by a range only of the version it began.
			if obj.ETag == "" || obj.ETag != whole.ETag {
				t.Errorf("%v: ETag %q, the whole object's %q", tc.rng, obj.ETag, whole.ETag)
			}
		}
	})
	t.Run("range past end", func(t *testing.T) {
		_, err := s.Get(ctx, "streams/a/720p/segment-0.ts", &storage.Range{Start: 20, End: -1})
		if !errors.Is(err, storage.ErrRangeNotSatisfiable) {
			t.Fatalf("want ErrRangeNotSatisfiable, got %v", err)
		}
	})
	t.Run("head", func(t *testing.T) {
		info, err := s.Head(ctx, "streams/a/master.m3u8")
		must(t, err)
		if info.Size != 8 || info.LastModified.IsZero() {
			t.Fatalf("head: %+v", info)
		}
	})
	t.Run("not found is typed", func(t *testing.T) {
		_, err := s.Get(ctx, "streams/a/missing.ts", nil)
		if !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("get: want ErrNotFound, got %v", err)
		}
		_, err = s.Head(ctx, "streams/a/missing.ts")
		if !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("head: want ErrNotFound, got %v", err)
		}
		_, err = s.Get(ctx, "streams/a", nil)
		if !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("folder: want ErrNotFound, got %v", err)
		}
	})
	t.Run("list", func(t *testing.T) {
		infos, err := s.List(ctx, "streams/a/")
		must(t, err)
		var keys []string
		for _, i := range infos {
			keys = append(keys, i.Key)
		}
		slices.Sort(keys)
		if want := []string{"streams/a/720p/segment-0.ts", "streams/a/master.m3u8"}; !slices.Equal(keys, want) {
			t.Fatalf("list = %v, want %v", keys, want)
		}
	})
	t.Run("bad keys refused", func(t *testing.T) {
		for _, k := range []string{"", "/etc/passwd", "../x", "streams/../../x", "a\\b", "a\x00b"} {
			if _, err := s.Get(ctx, k, nil); err == nil || errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Get(%q) = %v, want a key error", k, err)
			}
			if err := s.Put(ctx, k, strings.NewReader("x"), 1); err == nil {
				t.Errorf("Put(%q) succeeded", k)
			}
		}
	})
	t.Run("delete", func(t *testing.T) {
		must(t, s.Delete(ctx, "streams/ab/master.m3u8"))
		must(t, s.Delete(ctx, "streams/ab/master.m3u8"))
		if _, err := s.Head(ctx, "streams/ab/master.m3u8"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("after delete: %v", err)
		}
	})
}

func TestFileStore(t *testing.T) {
	s, err := storage.NewFileStore(t.TempDir())
	must(t, err)
	conformance(t, s)
}

func TestFileStoreRefusesSymlinkOut(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret.ts")
	must(t, os.WriteFile(outside, []byte("secret"), 0o644))
	must(t, os.MkdirAll(filepath.Join(dir, "streams/a"), 0o755))
	must(t, os.Symlink(outside, filepath.Join(dir, "streams/a/link.ts")))
	s, err := storage.NewFileStore(dir)
	must(t, err)
	if obj, err := s.Get(context.Background(), "streams/a/link.ts", nil); err == nil {
		obj.Body.Close()
		t.Fatal("a symlink out of the folder was followed")
	}
}

func TestS3Store(t *testing.T) {
	srv := storagetest.StartS3(t)
	for _, tc := range []struct {
		name   string
		signed bool
	}{{"signed gets", true}, {"through the SDK", false}} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := strings.ReplaceAll(tc.name, " ", "-")
			s := srv.Store(t, prefix)
			if !tc.signed {
				storage.ReadThroughSDK(s)
			}
			if storage.SignsGets(s) != tc.signed {
				t.Fatalf("signed gets in use: %v, want %v", storage.SignsGets(s), tc.signed)
			}
			conformance(t, s)
			// The prefix is really applied: the object sits under it in the bucket.
			if _, err := srv.Client().HeadObject(context.Background(), s3Head(srv.Bucket, prefix+"/streams/a/master.m3u8")); err != nil {
				t.Fatalf("object not under the prefix: %v", err)
			}
		})
	}
}

func TestS3StoreWrongSecretIsAnOriginError(t *testing.T) {
	srv := storagetest.StartS3(t)
	ctx := context.Background()
	good, err := storage.NewS3Store(ctx, storage.S3Options{Bucket: srv.Bucket, PathStyle: true, Endpoint: srv.Endpoint,
		Region: srv.Region, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	must(t, err)
	must(t, good.Put(ctx, "streams/a/master.m3u8", strings.NewReader("#EXTM3U\n"), 8))
	bad, err := storage.NewS3Store(ctx, storage.S3Options{Bucket: srv.Bucket, PathStyle: true, Endpoint: srv.Endpoint,
		Region: srv.Region, AccessKey: srv.AccessKey, SecretKey: "wrong-secret"})
	must(t, err)
	for _, key := range []string{"streams/a/master.m3u8", "streams/a/missing.m3u8"} {
		_, err = bad.Get(ctx, key, nil)
		if err == nil || errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("Get(%s) with a wrong secret = %v, want an origin error", key, err)
		}
	}
	missing, err := storage.NewS3Store(ctx, storage.S3Options{Bucket: "no-such-bucket", PathStyle: true, Endpoint: srv.Endpoint,
		Region: srv.Region, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	must(t, err)
	if _, err = missing.Get(ctx, "streams/a/master.m3u8", nil); err == nil || errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get from a missing bucket = %v, want an origin error", err)
	}
}

func TestHTTPStore(t *testing.T) {
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "cdn/streams/a"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "cdn/streams/a/segment-0.ts"), []byte(body), 0o644))
	files := http.FileServer(http.Dir(dir))
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/boom.ts"):
			http.Error(w, "boom", http.StatusInternalServerError)
		case strings.HasSuffix(r.URL.Path, "/denied.ts"):
			http.Error(w, "denied", http.StatusForbidden)
		default:
			files.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(origin.Close)
	s, err := storage.NewHTTPStore(origin.URL+"/cdn", nil)
	must(t, err)
	ctx := context.Background()

	obj, err := s.Get(ctx, "streams/a/segment-0.ts", nil)
	must(t, err)
	if got := readAll(t, obj.Body); got != body || obj.Size != 20 || obj.LastModified.IsZero() {
		t.Fatalf("get: %q %+v", got, obj.Info)
	}
	obj, err = s.Get(ctx, "streams/a/segment-0.ts", &storage.Range{Start: 2, End: 5})
	must(t, err)
	if got := readAll(t, obj.Body); got != "2345" || obj.Partial == nil || obj.Size != 20 {
		t.Fatalf("range: %q %+v", got, obj.Partial)
	}
	if _, err := s.Get(ctx, "streams/a/missing.ts", nil); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	for _, key := range []string{"streams/a/boom.ts", "streams/a/denied.ts"} {
		if _, err := s.Get(ctx, key, nil); err == nil || errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("%s: want an origin error, got %v", key, err)
		}
	}
	if err := s.Put(ctx, "x", strings.NewReader("x"), 1); !errors.Is(err, storage.ErrReadOnly) {
		t.Fatalf("put: %v", err)
	}
}

func TestHTTPStoreOriginDown(t *testing.T) {
	origin := httptest.NewServer(http.NotFoundHandler())
	origin.Close()
	s, err := storage.NewHTTPStore(origin.URL, nil)
	must(t, err)
	if _, err := s.Get(context.Background(), "streams/a/x.ts", nil); err == nil || errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("want an origin error, got %v", err)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		url     string
		wantErr string
	}{
		{"file://" + dir, ""},
		{"s3://bucket/prefix", ""},
		{"https://d111.cloudfront.net", ""},
		{"file://relative/dir", "three slashes"},
		{"s3:///prefix", "no bucket"},
		{"ftp://host/x", "unsupported scheme"},
		{"://bad", "parse"},
	} {
		_, err := storage.Open(context.Background(), tc.url, false)
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("Open(%q) = %v, want error containing %q", tc.url, err, tc.wantErr)
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func readAll(t testing.TB, r io.ReadCloser) string {
	t.Helper()
	defer r.Close()
	b, err := io.ReadAll(r)
	must(t, err)
	return string(b)
}
