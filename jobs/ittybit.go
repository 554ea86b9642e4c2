package jobs

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgehls/edge/storage"
)

// Ittybit runs Ittybit's adaptive_video task, which reads the source from
// the S3 bucket and writes the HLS package straight back into it.
type Ittybit struct {
	APIKey       string
	BaseURL      string           // https://api.ittybit.com
	ConnectionID string           // Ittybit's connection to the bucket
	Quality      string           // low, medium or high (default high)
	Store        *storage.S3Store // where the HLS package is written
	Uploads      *storage.S3Store // where sources are read; nil: Store
	// WebhookBase is edge's public URL if Ittybit can reach it: jobs then
	// carry a webhook_url and finish as soon as Ittybit calls. "": polling.
	WebhookBase string
	Client      *http.Client
	Log         *slog.Logger
	Poll        time.Duration // first wait between status checks (default 3s, growing to 30s)
	MaxAttempts int           // per request, for 408/429/5xx and network errors (default 6)

	bells bells
}

func (it *Ittybit) Name() string { return "ittybit" }

// ittybitJob is a job as the API returns it, tolerating its older shapes.
type ittybitJob struct {
	ID       string          `json:"id"`
	Status   string          `json:"status"`
	Progress float64         `json:"progress"`
	Error    json.RawMessage `json:"error"`
}

func (it *Ittybit) Transcode(ctx context.Context, streamID, source string, progress func(int)) (Result, error) {
	prefix := streamPrefix(streamID)
	req := map[string]any{
		"input":         s3URL(cmp.Or(it.Uploads, it.Store), source),
		"kind":          "adaptive_video",
		"connection_id": it.ConnectionID,
		"output":        s3URL(it.Store, prefix),
		"options":       map[string]string{"format": "hls", "quality": cmp.Or(it.Quality, "high")},
	}
	if hook := it.webhookURL(streamID); hook != "" {
		req["webhook_url"] = hook
	}
	body, _ := json.Marshal(req)
	rung, stop := it.bells.listen(streamID)
	defer stop()
	// One key per stream: after a restart the same stream gets its original
	// Ittybit job back (24 h) instead of a second, billed one.
	raw, err := it.request(ctx, http.MethodPost, "/jobs", body, "edge-stream-"+streamID)
	if err != nil {
		return Result{}, err
	}
	job, err := parseJob(raw)
	if err != nil {
		return Result{}, err
	}
	it.Log.Info("ittybit job submitted", "stream", streamID, "job", job.ID)
	if err := it.wait(ctx, job, progress, rung); err != nil {
		return Result{}, err
	}
	return it.result(ctx, prefix)
}

// s3URL names a storage key as Ittybit sees it; s3:// sources pass as is.
func s3URL(store *storage.S3Store, key string) string {
	if strings.HasPrefix(key, "s3://") {
		return key
	}
	return "s3://" + store.Bucket() + "/" + store.Prefix() + key
}

// wait polls the job with growing pauses until it ends; a webhook (rung)
// makes it ask at once.
func (it *Ittybit) wait(ctx context.Context, job ittybitJob, progress func(int), rung <-chan struct{}) error {
	pause := cmp.Or(it.Poll, 3*time.Second)
	for {
		switch normalStatus(job.Status) {
		case "succeeded":
			return nil
		case "failed":
			return userError("Ittybit could not process the video: " + cmp.Or(errorText(job.Error), "no reason given"))
		case "cancelled":
			return userError("the Ittybit job was cancelled")
		case "processing":
			if job.Progress > 0 {
				progress(min(99, int(job.Progress)))
			}
		}
		if err := sleep(ctx, pause, rung); err != nil {
			return err
		}
		pause = min(pause*3/2, 30*time.Second)
		raw, err := it.request(ctx, http.MethodGet, "/jobs/"+job.ID, nil, "")
		if err != nil {
			return err
		}
		if job, err = parseJob(raw); err != nil {
			return err
		}
	}
}

// normalStatus maps current and older status names onto one set.
func normalStatus(s string) string {
	switch strings.ToLower(s) {
	case "succeeded", "completed", "ready", "complete", "success":
		return "succeeded"
	case "failed", "error", "errored":
		return "failed"
	case "cancelled", "canceled":
		return "cancelled"
	case "processing", "running", "in_progress", "started":
		return "processing"
	default: // queued, pending, waiting, and anything new
		return "queued"
	}
}

// result reads what Ittybit wrote: renditions are the folders holding a
// stream.m3u8, the duration is the first one's segments added up.
func (it *Ittybit) result(ctx context.Context, prefix string) (Result, error) {
	objects, err := it.Store.List(ctx, prefix)
	if err != nil {
		return Result{}, fmt.Errorf("list Ittybit output: %w", err)
	}
	var res Result
	hasMaster := false
	for _, o := range objects {
		rel := strings.TrimPrefix(o.Key, prefix)
		switch {
		case rel == "master.m3u8":
			hasMaster = true
		case path.Base(rel) == "stream.m3u8":
			res.Renditions = append(res.Renditions, path.Dir(rel))
		case rel == "poster.jpg" || rel == "thumbnail.jpg":
			res.PosterKey = o.Key
		}
	}
	if !hasMaster || len(res.Renditions) == 0 {
		return Result{}, userError("Ittybit reported success but wrote no master.m3u8 with renditions under " + prefix)
	}
	sortRenditions(res.Renditions)
	res.Duration, err = it.playlistDuration(ctx, prefix+res.Renditions[0]+"/stream.m3u8")
	return res, err
}

func (it *Ittybit) playlistDuration(ctx context.Context, key string) (time.Duration, error) {
	obj, err := it.Store.Get(ctx, key, nil)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", key, err)
	}
	defer obj.Body.Close()
	var total float64
	lines := bufio.NewScanner(obj.Body)
	for lines.Scan() {
		if v, ok := strings.CutPrefix(lines.Text(), "#EXTINF:"); ok {
			secs, _ := strconv.ParseFloat(strings.TrimSuffix(strings.SplitN(v, ",", 2)[0], ","), 64)
			total += secs
		}
	}
	return time.Duration(total * float64(time.Second)), lines.Err()
}

// request calls the API, retrying 408, 429 (after Retry-After), 5xx and
// network failures with backoff; any other 4xx is final and its message is
// shown to the user.
func (it *Ittybit) request(ctx context.Context, method, p string, body []byte, idemKey string) (json.RawMessage, error) {
	backoff := time.Second
	attempts := cmp.Or(it.MaxAttempts, 6)
	for attempt := 1; ; attempt++ {
		status, header, data, err := it.once(ctx, method, p, body, idemKey)
		switch {
		case err == nil && status/100 == 2:
			return unwrapData(data), nil
		case err == nil && status != 408 && status != 429 && status < 500:
			if status == http.StatusUnauthorized || status == http.StatusForbidden {
				return nil, userError("Ittybit refused edge's API key (" + strconv.Itoa(status) + "): " + apiMessage(data, status))
			}
			return nil, userError("Ittybit refused the job: " + apiMessage(data, status))
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case attempt >= attempts:
			if err != nil {
				return nil, fmt.Errorf("ittybit %s %s: %w (after %d attempts)", method, p, err, attempt)
			}
			return nil, fmt.Errorf("ittybit %s %s: %d %s (after %d attempts)", method, p, status, apiMessage(data, status), attempt)
		}
		wait := backoff
		if ra := retryAfter(header); ra > 0 {
			wait = ra
		}
		it.Log.Warn("ittybit request will be retried", "method", method, "path", p, "status", status, "err", err, "wait", wait)
		if err := sleep(ctx, wait, nil); err != nil {
			return nil, err
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

func (it *Ittybit) once(ctx context.Context, method, p string, body []byte, idemKey string) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(cmp.Or(it.BaseURL, "https://api.ittybit.com"), "/")+p, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+it.APIKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	client := it.Client
	if client == nil {
		client = &http.Client{Timeout: 60 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header, data, err
}

func parseJob(raw json.RawMessage) (ittybitJob, error) {
	var job ittybitJob
	if err := json.Unmarshal(raw, &job); err != nil || job.ID == "" {
		return job, fmt.Errorf("unexpected Ittybit job response: %.200s", raw)
	}
	return job, nil
}

// unwrapData accepts both a bare object and one wrapped as {"data": …}.
func unwrapData(body []byte) json.RawMessage {
	var wrapped struct {
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(body, &wrapped) == nil && len(wrapped.Data) > 0 && wrapped.Data[0] == '{' {
		return wrapped.Data
	}
	return body
}

// apiMessage reads {"kind","message"}, {"message"}, {"error":{"message"}}
// or {"error":"…"}; otherwise the status text.
func apiMessage(body []byte, status int) string {
	var e struct {
		Message string          `json:"message"`
		Error   json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil {
		if e.Message != "" {
			return e.Message
		}
		if msg := errorText(e.Error); msg != "" {
			return msg
		}
	}
	return http.StatusText(status)
}

// errorText reads an error field that is a string, {"message": …} or null.
func errorText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Message string `json:"message"`
	}
	json.Unmarshal(raw, &obj)
	return obj.Message
}

// retryAfter reads seconds or an HTTP date, capped at a minute.
func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		return min(time.Duration(secs)*time.Second, time.Minute)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(0, time.Until(t)), time.Minute)
	}
	return 0
}

// sleep waits d, or less if ctx ends or wake is signalled.
func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	case <-wake:
	}
	return nil
}

// sortRenditions orders "720p", "360p"… highest first.
func sortRenditions(r []string) {
	height := func(s string) int { n, _ := strconv.Atoi(strings.TrimSuffix(s, "p")); return n }
	slices.SortFunc(r, func(a, b string) int { return height(b) - height(a) })
}
