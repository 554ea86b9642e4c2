package main

import (
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigDefaults(t *testing.T) {
	c, err := parseConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("./data")
	if c.Addr != ":8080" || c.DataDir != abs || c.Storage != "file://"+abs+"/media" || c.Origin != c.Storage ||
		c.PublicURL != "http://localhost:8080" || c.CacheBytes != 256<<20 || c.CacheObjectMax != 32<<20 ||
		c.ManifestTTL != 10*time.Second || !slices.Equal(c.CORSOrigins, []string{"*"}) || c.S3PathStyle {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestConfigSources(t *testing.T) {
	vars := map[string]string{
		"EDGE_ADDR": "127.0.0.1:9000", "EDGE_CACHE_BYTES": "1GiB", "EDGE_MANIFEST_TTL": "4s",
		"EDGE_ORIGIN": "https://d111.cloudfront.net/", "EDGE_STORAGE": "s3://bucket/pre", "EDGE_S3_PATH_STYLE": "true",
		"EDGE_CORS_ORIGINS": "https://a.example, https://b.example:8443",
	}
	c, err := parseConfig([]string{"--manifest-ttl", "6s", "--cache-object-max=2GiB"}, env(vars), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" || c.CacheBytes != 1<<30 || c.ManifestTTL != 6*time.Second ||
		c.CacheObjectMax != 1<<30 || c.Origin != "https://d111.cloudfront.net/" || c.Storage != "s3://bucket/pre" ||
		!c.S3PathStyle || c.PublicURL != "http://localhost:9000" ||
		!slices.Equal(c.CORSOrigins, []string{"https://a.example", "https://b.example:8443"}) {
		t.Fatalf("sources: %+v", c)
	}
}

func TestConfigErrorsNameTheirSource(t *testing.T) {
	for _, tc := range []struct {
		args []string
		vars map[string]string
		want string
	}{
		{nil, map[string]string{"EDGE_CACHE_BYTES": "lots"}, `invalid EDGE_CACHE_BYTES "lots"`},
		{nil, map[string]string{"EDGE_CACHE_BYTES": "-5MiB"}, `invalid EDGE_CACHE_BYTES "-5MiB"`},
		{[]string{"--cache-bytes", "0"}, nil, `invalid --cache-bytes "0"`},
		{nil, map[string]string{"EDGE_MANIFEST_TTL": "10"}, `invalid EDGE_MANIFEST_TTL "10"`},
		{nil, map[string]string{"EDGE_MANIFEST_TTL": "500ms"}, "at least 1s"},
		{nil, map[string]string{"EDGE_ADDR": "8080"}, `invalid EDGE_ADDR "8080"`},
		{nil, map[string]string{"EDGE_STORAGE": "https://x.example"}, `invalid EDGE_STORAGE`},
		{nil, map[string]string{"EDGE_ORIGIN": "ftp://x"}, `invalid EDGE_ORIGIN "ftp://x"`},
		{nil, map[string]string{"EDGE_ORIGIN": "https://"}, `no host`},
		{nil, map[string]string{"EDGE_PUBLIC_URL": "localhost:8080"}, `invalid EDGE_PUBLIC_URL`},
		{nil, map[string]string{"EDGE_S3_PATH_STYLE": "yes"}, `invalid EDGE_S3_PATH_STYLE "yes": invalid syntax`},
		{nil, map[string]string{"EDGE_CORS_ORIGINS": "https://a.example/path"}, `invalid EDGE_CORS_ORIGINS`},
		{nil, map[string]string{"EDGE_LOG_LEVEL": "loud"}, `want one of debug, info, warn, error`},
		{[]string{"extra"}, nil, `unexpected argument "extra"`},
		{[]string{"--no-such-flag"}, nil, "flag provided but not defined"},
	} {
		_, err := parseConfig(tc.args, env(tc.vars), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v %v: error %v, want one line containing %q", tc.args, tc.vars, err, tc.want)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"1": 1, "512KiB": 512 << 10, "256MiB": 256 << 20, "2GiB": 2 << 30, "100MB": 100e6, "10B": 10} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "1.5GiB", "0", "-1", "99999999999GiB", "1 TB"} {
		if _, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) accepted", in)
		}
	}
}
