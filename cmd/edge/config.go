package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/edgehls/edge/jobs"
)

// Config is everything `edge serve` reads from flags and EDGE_* variables.
type Config struct {
	Addr            string
	DataDir         string
	PublicURL       string
	Storage         string
	Uploads         string
	Origin          string
	S3PathStyle     bool
	Downloads       bool
	CacheBytes      int64
	CacheObjectMax  int64
	DiskCacheBytes  int64
	CacheDir        string
	ManifestTTL     time.Duration
	StaleIfError    time.Duration
	OriginTimeout   time.Duration
	CORSOrigins     []string
	ShutdownTimeout time.Duration
	Jobs            int
	IttybitJobs     int
	Limits          jobs.Limits
	JobTimeout      time.Duration
	MaxUploadBytes  int64
	UploadExpiry    time.Duration
	Transcoder      string
	Quality         string
	Packaging       string
	IttybitKey      string
	IttybitURL      string
	IttybitConnID   string
	IttybitWebhooks string
	MetricsToken    string
	TrustedProxies  []*net.IPNet
	ImportAllow     []netip.Prefix
	WebhookAllow    []netip.Prefix
	TrustFly        bool
	LogLevel        string
	LogFormat       string
}

const defaultDataDir = "./data"

// setting is one configuration knob: a flag, its variable, its default and
// how to read it. The table is the single source of the CLI and the README's
// configuration reference.
type setting struct {
	flag, env, def, usage string
	set                   func(c *Config, v string) error
}

var settings = []setting{
	{"addr", "EDGE_ADDR", ":8080", "listen address (host:port)", func(c *Config, v string) error {
		c.Addr = v
		_, port, err := net.SplitHostPort(v)
		if err == nil {
			_, err = strconv.ParseUint(port, 10, 16) // a number: the default public URL is built from it
		}
		if err != nil {
			return errors.New("want host:port, such as :8080 or 127.0.0.1:8080")
		}
		return nil
	}},
	{"data-dir", "EDGE_DATA_DIR", defaultDataDir, "folder for the SQLite database and, by default, media", func(c *Config, v string) error {
		abs, err := filepath.Abs(v)
		c.DataDir = abs
		return err
	}},
	{"public-url", "EDGE_PUBLIC_URL", "", "URL viewers reach edge at (default http://localhost:PORT)", func(c *Config, v string) error {
		c.PublicURL = strings.TrimSuffix(v, "/")
		return checkURL(v, "http", "https")
	}},
	{"storage", "EDGE_STORAGE", "", "where HLS output (and, by default, uploads) is written: file:///dir or s3://bucket/prefix (default file://DATA_DIR/media)", func(c *Config, v string) error {
		c.Storage = v
		return checkURL(v, "file", "s3")
	}},
	{"uploads", "EDGE_UPLOADS", "", "where uploaded sources are kept: file:///dir or s3://bucket/prefix (default: the storage)", func(c *Config, v string) error {
		c.Uploads = v
		return checkURL(v, "file", "s3")
	}},
	{"origin", "EDGE_ORIGIN", "", "where the proxy reads HLS from: file://, s3:// or https:// (default: the storage)", func(c *Config, v string) error {
		c.Origin = v
		return checkURL(v, "file", "s3", "http", "https")
	}},
	{"s3-path-style", "EDGE_S3_PATH_STYLE", "false", "path-style S3 addressing, for S3-compatible servers", func(c *Config, v string) (err error) {
		c.S3PathStyle, err = strconv.ParseBool(v)
		return err
	}},
	{"cache-bytes", "EDGE_CACHE_BYTES", "256MiB", "memory the proxy cache may hold", func(c *Config, v string) (err error) {
		c.CacheBytes, err = parseBytes(v)
		return err
	}},
	{"disk-cache-bytes", "EDGE_DISK_CACHE_BYTES", "auto", "disk the segment cache may hold (under EDGE_CACHE_DIR); auto: half the room on its volume, at most 10GiB", func(c *Config, v string) (err error) {
		if v == "auto" {
			c.DiskCacheBytes = 0 // the proxy sizes it to the volume once the folder is indexed
			return nil
		}
		c.DiskCacheBytes, err = parseBytes(v)
		if err != nil {
			err = fmt.Errorf("%w, or auto", err)
		}
		return err
	}},
	{"cache-dir", "EDGE_CACHE_DIR", "", "folder of the disk cache tier, empty or edge's own (default DATA_DIR/cache)", func(c *Config, v string) (err error) {
		c.CacheDir, err = filepath.Abs(v)
		return err
	}},
	{"cache-object-max", "EDGE_CACHE_OBJECT_MAX", "32MiB", "largest object the cache holds; larger ones stream through (at most 4GiB)", func(c *Config, v string) (err error) {
		c.CacheObjectMax, err = parseBytes(v)
		return err
	}},
	{"manifest-ttl", "EDGE_MANIFEST_TTL", "10s", "how long playlists (.m3u8) are cached", func(c *Config, v string) (err error) {
		c.ManifestTTL, err = parseDuration(v, time.Second)
		return err
	}},
	{"stale-if-error", "EDGE_STALE_IF_ERROR", "1h", "how long past expiry a cached playlist may be served while the origin fails", func(c *Config, v string) (err error) {
		c.StaleIfError, err = parseDuration(v, time.Second)
		return err
	}},
	{"origin-timeout", "EDGE_ORIGIN_TIMEOUT", "10s", "limit for one origin fetch", func(c *Config, v string) (err error) {
		c.OriginTimeout, err = parseDuration(v, time.Millisecond)
		return err
	}},
	{"cors-origins", "EDGE_CORS_ORIGINS", "*", "comma-separated origins allowed to fetch streams, or *", func(c *Config, v string) (err error) {
		c.CORSOrigins, err = parseOrigins(v)
		return err
	}},
	{"jobs", "EDGE_JOBS", "1", "transcodes run at once by the built-in ffmpeg runner", func(c *Config, v string) (err error) {
		c.Jobs, err = parseIntIn(v, 1, 64)
		return err
	}},
	{"ittybit-jobs", "EDGE_ITTYBIT_JOBS", "10", "Ittybit jobs followed at once (they run in Ittybit's cloud, not here)", func(c *Config, v string) (err error) {
		c.IttybitJobs, err = parseIntIn(v, 1, 1000)
		return err
	}},
	{"max-duration", "EDGE_MAX_DURATION", "6h", "longest source edge transcodes; longer ones are refused", func(c *Config, v string) (err error) {
		c.Limits.MaxDuration, err = parseDuration(v, time.Second)
		return err
	}},
	{"max-resolution", "EDGE_MAX_RESOLUTION", "8192", "largest frame side in pixels edge transcodes; larger frames are refused", func(c *Config, v string) (err error) {
		c.Limits.MaxResolution, err = parseIntIn(v, 16, 16384)
		return err
	}},
	{"max-tracks", "EDGE_MAX_TRACKS", "16", "most tracks (video, audio, subtitles, data) a source may have", func(c *Config, v string) (err error) {
		c.Limits.MaxTracks, err = parseIntIn(v, 1, 1024)
		return err
	}},
	{"job-timeout", "EDGE_JOB_TIMEOUT", "8h", "longest one transcode may run before it fails", func(c *Config, v string) (err error) {
		c.JobTimeout, err = parseDuration(v, time.Minute)
		return err
	}},
	{"upload-max-bytes", "EDGE_UPLOAD_MAX_BYTES", "20GiB", "largest file a browser or script may upload", func(c *Config, v string) (err error) {
		c.MaxUploadBytes, err = parseBytes(v)
		return err
	}},
	{"upload-expiry", "EDGE_UPLOAD_EXPIRY", "24h", "an upload left unfinished this long is deleted, with its stream", func(c *Config, v string) (err error) {
		c.UploadExpiry, err = parseDuration(v, time.Minute)
		return err
	}},
	{"quality", "EDGE_QUALITY", "high", "low, medium or high: the ladder's bitrates (ffmpeg) or Ittybit's quality option", func(c *Config, v string) error {
		c.Quality = v
		return oneOf(v, "low", "medium", "high")
	}},
	{"packaging", "EDGE_PACKAGING", "ts", "ts (MPEG-TS segments, the guide's layout) or cmaf (fMP4: init.mp4 and segment-N.m4s), for the ffmpeg runner", func(c *Config, v string) error {
		c.Packaging = v
		return oneOf(v, "ts", "cmaf")
	}},
	{"transcoder", "EDGE_TRANSCODER", "", "ffmpeg or ittybit (default: ittybit when ITTYBIT_API_KEY is set, else ffmpeg)", func(c *Config, v string) error {
		c.Transcoder = v
		return oneOf(v, "ffmpeg", "ittybit")
	}},
	{"ittybit-api-key", "ITTYBIT_API_KEY", "", "Ittybit API key (never logged)", func(c *Config, v string) error {
		c.IttybitKey = v
		return nil
	}},
	{"ittybit-api-url", "ITTYBIT_API_URL", "https://api.ittybit.com", "Ittybit API base URL", func(c *Config, v string) error {
		c.IttybitURL = strings.TrimSuffix(v, "/")
		return checkURL(v, "http", "https")
	}},
	{"ittybit-connection-id", "ITTYBIT_CONNECTION_ID", "", "Ittybit connection to the S3 bucket (conn_…)", func(c *Config, v string) error {
		c.IttybitConnID = v
		return nil
	}},
	{"ittybit-webhooks", "EDGE_ITTYBIT_WEBHOOKS", "auto", "send Ittybit a webhook_url: auto (only when EDGE_PUBLIC_URL is public https, as Ittybit requires), on or off", func(c *Config, v string) error {
		c.IttybitWebhooks = v
		return oneOf(v, "auto", "on", "off")
	}},
	{"shutdown-timeout", "EDGE_SHUTDOWN_TIMEOUT", "30s", "how long in-flight requests may take to finish on shutdown", func(c *Config, v string) (err error) {
		c.ShutdownTimeout, err = parseDuration(v, time.Second)
		return err
	}},
	{"metrics-token", "EDGE_METRICS_TOKEN", "", "a secret /metrics then requires as Authorization: Bearer (never logged); empty: /metrics is public", func(c *Config, v string) error {
		c.MetricsToken = v
		return nil
	}},
	{"trusted-proxies", "EDGE_TRUSTED_PROXIES", "", "proxies whose X-Forwarded-For names the client: CIDRs, comma-separated, or fly (Fly-Client-IP)", func(c *Config, v string) (err error) {
		c.TrustFly = v == "fly"
		if !c.TrustFly {
			c.TrustedProxies, err = parseCIDRs(v)
		}
		return err
	}},
	{"import-allow", "EDGE_IMPORT_ALLOW", "", "private or local networks imports by URL may fetch from after all (an intranet media server): CIDRs, comma-separated; empty: none", func(c *Config, v string) (err error) {
		c.ImportAllow, err = parsePrefixes(v)
		return err
	}},
	{"webhook-allow", "EDGE_WEBHOOK_ALLOW", "", "private or local networks outgoing webhooks may be sent to after all (a CMS on the intranet): CIDRs, comma-separated; empty: none", func(c *Config, v string) (err error) {
		c.WebhookAllow, err = parsePrefixes(v)
		return err
	}},
	{"downloads", "EDGE_DOWNLOADS", "false", "new videos offer an MP4 download unless made without (each video can switch it)", func(c *Config, v string) (err error) {
		c.Downloads, err = strconv.ParseBool(v)
		return err
	}},
	{"log-level", "EDGE_LOG_LEVEL", "info", "debug, info, warn or error", func(c *Config, v string) error {
		c.LogLevel = v
		return oneOf(v, "debug", "info", "warn", "error")
	}},
	{"log-format", "EDGE_LOG_FORMAT", "text", "text or json", func(c *Config, v string) error {
		c.LogFormat = v
		return oneOf(v, "text", "json")
	}},
}

// parseConfig reads flags over EDGE_* variables over defaults. An error
// names the flag or variable the bad value came from.
func parseConfig(args []string, getenv func(string) string, usageOut io.Writer) (Config, error) {
	fs := flag.NewFlagSet("edge serve", flag.ContinueOnError)
	fs.SetOutput(usageOut)
	values := make(map[string]*string, len(settings))
	for _, s := range settings {
		values[s.flag] = fs.String(s.flag, s.def, s.usage+" ["+s.env+"]")
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fromFlag := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { fromFlag[f.Name] = true })

	var c Config
	for _, s := range settings {
		v, source := s.def, ""
		if fromFlag[s.flag] {
			v, source = *values[s.flag], "--"+s.flag
		} else if e := getenv(s.env); e != "" {
			v, source = e, s.env
		}
		if v == "" {
			continue // derived below
		}
		if err := s.set(&c, v); err != nil {
			if source == "" {
				source = s.env
			}
			return Config{}, fmt.Errorf("invalid %s %q: %w", source, v, unwrapParse(err))
		}
	}
	c.fillDerived()
	return c, nil
}

// fillDerived sets the defaults that depend on other settings.
func (c *Config) fillDerived() {
	if c.CacheDir == "" {
		c.CacheDir = filepath.Join(c.DataDir, "cache")
	}
	if c.Storage == "" {
		c.Storage = "file://" + filepath.ToSlash(filepath.Join(c.DataDir, "media"))
	}
	if c.Origin == "" {
		c.Origin = c.Storage
	}
	if c.Uploads == "" {
		c.Uploads = c.Storage
	}
	if c.PublicURL == "" {
		_, port, _ := net.SplitHostPort(c.Addr)
		c.PublicURL = "http://localhost:" + port
	}
	c.CacheObjectMax = min(c.CacheObjectMax, c.CacheBytes)
	if c.Transcoder == "" {
		c.Transcoder = "ffmpeg"
		if c.IttybitKey != "" {
			c.Transcoder = "ittybit"
		}
	}
}

// parseBytes reads sizes such as 1048576, 512KiB, 256MiB, 2GiB or 100MB.
func parseBytes(v string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	num, mult := v, int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			num, mult = n, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n <= 0 || n > (1<<50)/mult {
		return 0, errors.New("want a positive size such as 256MiB")
	}
	return n * mult, nil
}

func parseDuration(v string, least time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < least {
		return 0, fmt.Errorf("want a duration of at least %s, such as 10s", least)
	}
	return d, nil
}

// parseCIDRs reads "10.0.0.0/8, 2001:db8::/32, 192.0.2.7" (a bare address
// is its own /32 or /128).
func parseCIDRs(v string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if ip := net.ParseIP(s); ip != nil && ip.To4() != nil {
			s += "/32"
		} else if ip != nil {
			s += "/128"
		}
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or CIDR range, such as 10.0.0.0/8", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func parsePrefixes(v string) ([]netip.Prefix, error) {
	nets, err := parseCIDRs(v)
	out := make([]netip.Prefix, 0, len(nets))
	for _, n := range nets {
		addr, _ := netip.AddrFromSlice(n.IP)
		ones, _ := n.Mask.Size()
		out = append(out, netip.PrefixFrom(addr.Unmap(), ones))
	}
	return out, err
}

func parseIntIn(v string, least, most int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < least || n > most {
		return 0, fmt.Errorf("want a whole number from %d to %d", least, most)
	}
	return n, nil
}

func parseOrigins(v string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(v, ",") {
		o = strings.TrimSpace(o)
		if o == "*" {
			out = append(out, o)
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("want * or origins such as https://www.example.com, got %q", o)
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	return out, nil
}

func checkURL(v string, schemes ...string) error {
	u, err := url.Parse(v)
	if err != nil {
		return err
	}
	for _, s := range schemes {
		if u.Scheme == s {
			if s != "file" && u.Host == "" {
				return fmt.Errorf("no host in %s URL", s)
			}
			return nil
		}
	}
	return fmt.Errorf("want a %s:// URL", strings.Join(schemes, ":// or "))
}

func oneOf(v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(allowed, ", "))
}

// unwrapParse drops strconv's noisy prefix ("strconv.ParseBool: parsing …").
func unwrapParse(err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return ne.Err
	}
	return err
}
