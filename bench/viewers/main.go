// Command viewers plays HLS streams the way a crowd of hls.js viewers
// does, against any HLS server, and prints what they lived through as one
// JSON object: errors, time to first byte, whole-segment time and
// start-up time, in milliseconds.
//
// Each viewer picks a stream by Zipf popularity (a few streams are watched
// by many, most by few), reads the master and a variant playlist, fetches
// three segments at once (the player's start-up buffer), then one segment
// per segment duration, as playback consumes them. When a video ends the
// viewer picks another, until the run ends. With -pace=false each viewer
// asks for the next segment as soon as it has the last (a library read at
// full speed: requests per second and the hit ratio on a Zipf library).
//
//	viewers -base http://127.0.0.1:8080 -streams 40 -viewers 1000 -duration 60s
//	viewers -base http://127.0.0.1:8080 -viewers 64 -duration 20s -ramp 0 -pace=false
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

type config struct {
	base      string
	streams   int
	viewers   int
	duration  time.Duration
	ramp      time.Duration
	zipfS     float64
	rendition string
	seed      uint64
	pace      bool
}

func main() {
	var c config
	flag.StringVar(&c.base, "base", "http://127.0.0.1:8080", "server URL; streams are at /streams/s000/ …")
	flag.IntVar(&c.streams, "streams", 40, "streams in the library (s000 …)")
	flag.IntVar(&c.viewers, "viewers", 1000, "viewers playing at once")
	flag.DurationVar(&c.duration, "duration", time.Minute, "how long the viewers play")
	flag.DurationVar(&c.ramp, "ramp", 10*time.Second, "viewers arrive spread over this long")
	flag.Float64Var(&c.zipfS, "zipf", 1.1, "Zipf exponent of stream popularity (>1)")
	flag.StringVar(&c.rendition, "rendition", "720p", "the variant every viewer plays")
	flag.Uint64Var(&c.seed, "seed", 1, "random seed, so runs against two servers see the same choices")
	flag.BoolVar(&c.pace, "pace", true, "ask for one segment per segment duration, as a player does; false: as fast as answers come")
	flag.Parse()
	// A thousand players allocate fast: at Go's default the collector took
	// 27% of the CPU this tool shares with the server it measures.
	debug.SetGCPercent(800)
	start := time.Now()
	res := run(c)
	json.NewEncoder(os.Stdout).Encode(res.summary(time.Since(start)))
}

// sample is one request as a viewer lived it.
type sample struct {
	kind    string // master, variant, segment
	at      time.Time
	ttfb    time.Duration
	total   time.Duration
	err     bool
	hit     bool // the server's Cache-Status (or nginx's X-Cache-Status) said hit
	newConn bool // the request opened a connection
}

type results struct {
	mu      sync.Mutex
	samples []sample
	startup []time.Duration
	bytes   int64
}

func run(c config) *results {
	res := &results{}
	ctx, cancel := context.WithTimeout(context.Background(), c.ramp+c.duration)
	defer cancel()
	var wg sync.WaitGroup
	for i := range c.viewers {
		v := &viewer{cfg: c, res: res, rng: rand.New(rand.NewPCG(c.seed, uint64(i)))}
		v.client = &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1}}
		delay := time.Duration(v.rng.Int64N(int64(c.ramp) + 1))
		wg.Go(func() { v.play(ctx, delay) })
	}
	wg.Wait()
	return res
}

type viewer struct {
	cfg    config
	res    *results
	rng    *rand.Rand
	client *http.Client
}

func (v *viewer) play(ctx context.Context, delay time.Duration) {
	select {
	case <-time.After(delay):
	case <-ctx.Done():
		return
	}
	zipf := rand.NewZipf(v.rng, v.cfg.zipfS, 1, uint64(v.cfg.streams-1))
	for ctx.Err() == nil {
		v.watch(ctx, fmt.Sprintf("%s/streams/s%03d/", v.cfg.base, zipf.Uint64()))
	}
}

// watch plays one stream to its end, or until the run ends.
func (v *viewer) watch(ctx context.Context, streamURL string) {
	start := time.Now()
	if _, ok := v.get(ctx, "master", streamURL+"master.m3u8"); !ok {
		v.pause(ctx)
		return
	}
	playlist, ok := v.get(ctx, "variant", streamURL+v.cfg.rendition+"/stream.m3u8")
	if !ok {
		v.pause(ctx)
		return
	}
	segs, segDur := parseMedia(playlist)
	for i, seg := range segs {
		if i >= 3 && v.cfg.pace { // past the start-up buffer: one segment per segment played
			wait := time.Until(start.Add(time.Duration(i-2) * segDur))
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return
			}
		}
		if _, ok := v.get(ctx, "segment", streamURL+v.cfg.rendition+"/"+seg); !ok {
			v.pause(ctx)
			return
		}
		if i == 0 {
			v.res.mu.Lock()
			v.res.startup = append(v.res.startup, time.Since(start))
			v.res.mu.Unlock()
		}
	}
}

// pause is a player's back-off after an error.
func (v *viewer) pause(ctx context.Context) {
	select {
	case <-time.After(time.Second):
	case <-ctx.Done():
	}
}

// get fetches an answer (fetch) and records how it went; a body shorter
// than its Content-Length is an error, as it is for a player.
func (v *viewer) get(ctx context.Context, kind, url string) (string, bool) {
	start := time.Now()
	s := sample{kind: kind, at: start}
	body, n, err := v.fetch(ctx, url, &s)
	s.total = time.Since(start)
	if ctx.Err() != nil {
		return "", false // the run ended mid-request: not the server's fault
	}
	s.err = err != nil
	v.res.mu.Lock()
	v.res.samples = append(v.res.samples, s)
	v.res.bytes += n
	v.res.mu.Unlock()
	return body, err == nil
}

// fetch reads an answer: a playlist whole, for its lines; a segment's
// bytes are counted and dropped, as keeping them cost this tool 600 MB/s
// of garbage (and its collections the CPU it shares with the server).
func (v *viewer) fetch(ctx context.Context, url string, s *sample) (string, int64, error) {
	trace := &httptrace.ClientTrace{GotConn: func(c httptrace.GotConnInfo) { s.newConn = !c.Reused }}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, url, nil)
	resp, err := v.client.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	s.ttfb = time.Since(s.at)
	s.hit = isHit(resp.Header)
	var body []byte
	var n int64
	if s.kind == "segment" {
		n, err = io.Copy(io.Discard, resp.Body)
	} else {
		body, err = io.ReadAll(resp.Body)
		n = int64(len(body))
	}
	switch {
	case err != nil:
		return "", n, err
	case resp.StatusCode != http.StatusOK:
		return "", n, fmt.Errorf("status %d", resp.StatusCode)
	case resp.ContentLength >= 0 && n != resp.ContentLength:
		return "", n, fmt.Errorf("short body")
	}
	return string(body), n, nil
}

// isHit reads edge's Cache-Status ("edge; hit") or the X-Cache-Status
// the bench's nginx adds ($upstream_cache_status: HIT, MISS, EXPIRED …).
func isHit(h http.Header) bool {
	return h.Get("Cache-Status") == "edge; hit" || h.Get("X-Cache-Status") == "HIT"
}

// parseMedia reads segment URIs and the longest EXTINF of a media playlist.
func parseMedia(playlist string) ([]string, time.Duration) {
	var segs []string
	dur := 4 * time.Second
	sc := bufio.NewScanner(strings.NewReader(playlist))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "#EXTINF:"); ok {
			secs, _ := strconv.ParseFloat(strings.TrimSuffix(strings.SplitN(v, ",", 2)[0], ","), 64)
			dur = time.Duration(secs * float64(time.Second))
		} else if line != "" && !strings.HasPrefix(line, "#") {
			segs = append(segs, line)
		}
	}
	return segs, dur
}

type summary struct {
	Requests      int     `json:"requests"`
	Errors        int     `json:"errors"`
	MiB           float64 `json:"mib"`
	TTFBp50       float64 `json:"ttfb_p50_ms"`
	TTFBp99       float64 `json:"ttfb_p99_ms"`
	SegmentP50    float64 `json:"segment_p50_ms"`
	SegmentP99    float64 `json:"segment_p99_ms"`
	StartupP50    float64 `json:"startup_p50_ms"`
	StartupP99    float64 `json:"startup_p99_ms"`
	StartedVideos int     `json:"started_videos"`
	PerSecond     float64 `json:"requests_per_second"` // answered without error
	// TTFB and whole-segment time by how the server answered, to tell
	// where a p99 comes from: a few percent of segments are misses, so
	// the misses' tail is the segments' p99.
	ByAnswer        map[string]answerStats `json:"ttfb_by_answer"`
	SegmentByAnswer map[string]answerStats `json:"segment_by_answer"`
	// Seconds in which many answers were slow at once (burstSlow): a
	// stall of the server or of the machine it shares with the viewers.
	// One such second sets a run's p99, so they are counted, to tell a
	// hiccup from a server slow throughout.
	BurstSeconds int `json:"burst_seconds"`
	SlowInBursts int `json:"slow_in_bursts"`
}

// A burst is a second with at least burstCount answers whose first byte
// took over burstSlow: at 368 requests/s, 10 of them are 3% of a second's
// answers, where a p99 allows 1%.
const (
	burstSlow  = 15 * time.Millisecond
	burstCount = 10
)

type answerStats struct {
	Requests int     `json:"requests"`
	P50      float64 `json:"p50_ms"`
	P99      float64 `json:"p99_ms"`
}

// answer names how a request was served: a hit on a kept connection, a
// hit on a new one (the server's per-connection start), or a miss.
func (x sample) answer() string {
	switch {
	case !x.hit:
		return "miss"
	case x.newConn:
		return "hit_new_conn"
	}
	return "hit"
}

func (r *results) summary(took time.Duration) summary {
	var ttfb, seg []time.Duration
	by, segBy := map[string][]time.Duration{}, map[string][]time.Duration{}
	s := summary{Requests: len(r.samples), MiB: float64(r.bytes) / (1 << 20), StartedVideos: len(r.startup)}
	for _, x := range r.samples {
		if x.err {
			s.Errors++
			continue
		}
		ttfb = append(ttfb, x.ttfb)
		by[x.answer()] = append(by[x.answer()], x.ttfb)
		if x.kind == "segment" {
			seg = append(seg, x.total)
			segBy[x.answer()] = append(segBy[x.answer()], x.total)
		}
	}
	// An error is no answer to a viewer: a server that fails fast must
	// not gain by it (nginx, its cache volume full, cuts answers short).
	s.PerSecond = float64(s.Requests-s.Errors) / took.Seconds()
	s.TTFBp50, s.TTFBp99 = pct(ttfb, 50), pct(ttfb, 99)
	s.SegmentP50, s.SegmentP99 = pct(seg, 50), pct(seg, 99)
	s.StartupP50, s.StartupP99 = pct(r.startup, 50), pct(r.startup, 99)
	s.ByAnswer, s.SegmentByAnswer = byAnswer(by), byAnswer(segBy)
	s.BurstSeconds, s.SlowInBursts = r.bursts()
	return s
}

func byAnswer(by map[string][]time.Duration) map[string]answerStats {
	stats := map[string]answerStats{}
	for k, d := range by {
		stats[k] = answerStats{Requests: len(d), P50: pct(d, 50), P99: pct(d, 99)}
	}
	return stats
}

// bursts counts the seconds with at least burstCount slow answers, and
// the slow answers in them.
func (r *results) bursts() (seconds, slow int) {
	perSecond := map[int64]int{}
	for _, x := range r.samples {
		if !x.err && x.ttfb > burstSlow {
			perSecond[x.at.Unix()]++
		}
	}
	for _, n := range perSecond {
		if n >= burstCount {
			seconds++
			slow += n
		}
	}
	return seconds, slow
}

// pct is the p-th percentile in milliseconds (nearest rank).
func pct(d []time.Duration, p int) float64 {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := (len(d)*p+99)/100 - 1
	return float64(d[max(i, 0)].Microseconds()) / 1000
}
