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
		c.ManifestTTL != 10*time.Second || !slices.Equal(c.CORSOrigins, []string{"*"}) || c.S3PathStyle ||
		c.DiskCacheBytes != 0 { // 0: sized to the volume by the proxy
		t.Fatalf("defaults: %+v", c)
	}
}

func TestConfigSources(t *testing.T) {
	vars := map[string]string{
		"EDGE_ADDR": "127.0.0.1:9000", "EDGE_CACHE_BYTES": "1GiB", "EDGE_MANIFEST_TTL": "4s",
		"EDGE_ORIGIN": "https://d111.cloudfront.net/", "EDGE_STORAGE": "s3://bucket/pre", "EDGE_S3_PATH_STYLE": "true",
		"EDGE_CORS_ORIGINS": "https://a.example, https://b.example:8443", "EDGE_DISK_CACHE_BYTES": "3GiB",
	}
	c, err := parseConfig([]string{"--manifest-ttl", "6s", "--cache-object-max=2GiB"}, env(vars), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" || c.CacheBytes != 1<<30 || c.ManifestTTL != 6*time.Second ||
		c.CacheObjectMax != 1<<30 || c.Origin != "https://d111.cloudfront.net/" || c.Storage != "s3://bucket/pre" ||
		!c.S3PathStyle || c.PublicURL != "http://localhost:9000" || c.DiskCacheBytes != 3<<30 ||
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
		{nil, map[string]string{"EDGE_DISK_CACHE_BYTES": "all"}, `invalid EDGE_DISK_CACHE_BYTES "all": want a positive size such as 256MiB, or auto`},
		{nil, map[string]string{"EDGE_MANIFEST_TTL": "10"}, `invalid EDGE_MANIFEST_TTL "10"`},
		{nil, map[string]string{"EDGE_MANIFEST_TTL": "500ms"}, "at least 1s"},
		{nil, map[string]string{"EDGE_ADDR": "8080"}, `invalid EDGE_ADDR "8080": want host:port, such as :8080`},
		{nil, map[string]string{"EDGE_ADDR": ":99999"}, `invalid EDGE_ADDR ":99999": want host:port`},
		{nil, map[string]string{"EDGE_ADDR": ":http"}, `invalid EDGE_ADDR ":http": want host:port`},
		{nil, map[string]string{"EDGE_STORAGE": "https://x.example"}, `invalid EDGE_STORAGE`},
		{nil, map[string]string{"EDGE_ORIGIN": "ftp://x"}, `invalid EDGE_ORIGIN "ftp://x"`},
		{nil, map[string]string{"EDGE_ORIGIN": "https://"}, `no host`},
		{nil, map[string]string{"EDGE_PUBLIC_URL": "localhost:8080"}, `invalid EDGE_PUBLIC_URL`},
		{nil, map[string]string{"EDGE_S3_PATH_STYLE": "yes"}, `invalid EDGE_S3_PATH_STYLE "yes": invalid syntax`},
		{nil, map[string]string{"EDGE_CORS_ORIGINS": "https://a.example/path"}, `invalid EDGE_CORS_ORIGINS`},
		{nil, map[string]string{"EDGE_LOG_LEVEL": "loud"}, `want one of debug, info, warn, error`},
		{nil, map[string]string{"EDGE_TRUSTED_PROXIES": "10.0.0.0/8, proxy.internal"}, `"proxy.internal" is not an address or CIDR range`},
		{nil, map[string]string{"EDGE_WEBHOOK_ALLOW": "10.0.0.0/8,intranet"}, `invalid EDGE_WEBHOOK_ALLOW`},
		{nil, map[string]string{"EDGE_IMPORT_ALLOW": "192.168.0.0/33"}, `invalid EDGE_IMPORT_ALLOW`},
		{nil, map[string]string{"EDGE_MAX_RESOLUTION": "99999"}, `invalid EDGE_MAX_RESOLUTION "99999": want a whole number from 16 to 16384`},
		{nil, map[string]string{"EDGE_ITTYBIT_JOBS": "0"}, `invalid EDGE_ITTYBIT_JOBS`},
		{nil, map[string]string{"EDGE_JOB_TIMEOUT": "30s"}, `invalid EDGE_JOB_TIMEOUT "30s": want a duration of at least 1m0s`},
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

// TestHardeningSettings: the limits, trusted proxies and job counts are
// read as documented, a bare address being its own range.
func TestHardeningSettings(t *testing.T) {
	c, err := parseConfig(nil, env(map[string]string{"EDGE_MAX_DURATION": "2h", "EDGE_MAX_RESOLUTION": "4096", "EDGE_MAX_TRACKS": "8",
		"EDGE_JOB_TIMEOUT": "3h", "EDGE_ITTYBIT_JOBS": "25", "EDGE_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7, 2001:db8::/32",
		"EDGE_METRICS_TOKEN": "m"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var nets []string
	for _, n := range c.TrustedProxies {
		nets = append(nets, n.String())
	}
	if c.Limits.MaxDuration != 2*time.Hour || c.Limits.MaxResolution != 4096 || c.Limits.MaxTracks != 8 || c.JobTimeout != 3*time.Hour ||
		c.IttybitJobs != 25 || c.MetricsToken != "m" || c.TrustFly || !slices.Equal(nets, []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"}) {
		t.Fatalf("settings: %+v %v", c, nets)
	}
	if c, _ := parseConfig(nil, env(map[string]string{"EDGE_TRUSTED_PROXIES": "fly"}), io.Discard); !c.TrustFly || c.TrustedProxies != nil {
		t.Fatalf("fly: %+v", c)
	}
}
