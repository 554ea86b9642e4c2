package jobs

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grafov/m3u8"

	"github.com/edgehls/edge/internal/apperr"
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
	Progress float64         `json:"progress"` // older shapes only
	Error    json.RawMessage `json:"error"`
	Tasks    []struct {
		Status   string   `json:"status"`
		Progress *float64 `json:"progress"`
	} `json:"tasks"`
}

// percent is how far the job is: the documented job has no progress of
// its own, so it is the share of its tasks done (a task's own progress
// counting when it reports one); an older job's progress field otherwise.
func (j ittybitJob) percent() int {
	if len(j.Tasks) == 0 {
		return int(j.Progress)
	}
	var sum float64
	for _, t := range j.Tasks {
		switch {
		case normalStatus(t.Status) == "succeeded":
			sum += 100
		case t.Progress != nil:
			sum += min(max(*t.Progress, 0), 100)
		}
	}
	return int(sum / float64(len(j.Tasks)))
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
	raw, err := it.follow(ctx, streamID, func() (json.RawMessage, error) {
		return it.request(ctx, http.MethodPost, "/jobs", body, "edge-stream-"+streamID)
	})
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
			return apperr.New(apperr.Invalid, "Ittybit could not process the video: "+cmp.Or(errorText(job.Error), "no reason given"))
		case "cancelled":
			return apperr.New(apperr.Invalid, "the Ittybit job was cancelled")
		case "processing":
			if pct := job.percent(); pct > 0 {
				progress(min(99, pct))
			}
		}
		if err := sleep(ctx, pause, rung); err != nil {
			return err
		}
		pause = min(pause*3/2, 30*time.Second)
		raw, err := it.follow(ctx, job.ID, func() (json.RawMessage, error) {
			return it.request(ctx, http.MethodGet, "/jobs/"+job.ID, nil, "")
		})
		if err != nil {
			return err
		}
		if job, err = parseJob(raw); err != nil {
			return err
		}
	}
}

// follow calls the API until it answers or refuses: a failure that is not
// a refusal (408, 429, 5xx, a timeout, the network) says nothing about the
// job, which may well be running (and billed), so it never fails the
// stream; edge asks again with growing, jittered pauses (up to 5 minutes)
// until the job's own deadline (EDGE_JOB_TIMEOUT) ends ctx.
func (it *Ittybit) follow(ctx context.Context, what string, call func() (json.RawMessage, error)) (json.RawMessage, error) {
	pause := cmp.Or(it.Poll, 3*time.Second)
	for {
		raw, err := call()
		_, refused := apperr.As(err)
		if err == nil || refused || ctx.Err() != nil {
			return raw, err
		}
		wait := jitter(pause)
		it.Log.Warn("ittybit unreachable; still following the job", "job", what, "err", err, "retry_in", wait)
		if err := sleep(ctx, wait, nil); err != nil {
			return nil, err
		}
		pause = min(pause*2, 5*time.Minute)
	}
}

// jitter spreads d by ±20%, so edges that lost Ittybit together do not
// come back in step.
func jitter(d time.Duration) time.Duration {
	return d*4/5 + rand.N(d*2/5+1)
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
		return Result{}, apperr.New(apperr.Invalid, "Ittybit reported success but wrote no master.m3u8 with renditions under "+prefix)
	}
	sortRenditions(res.Renditions)
	res.Width, res.Height = it.pictureSize(ctx, prefix+"master.m3u8")
	res.Duration, err = it.playlistDuration(ctx, prefix+res.Renditions[0]+"/stream.m3u8")
	return res, err
}

func (it *Ittybit) playlistDuration(ctx context.Context, key string) (time.Duration, error) {
	obj, err := it.Store.Get(ctx, key, nil)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", key, err)
	}
	defer obj.Body.Close()
	media, err := decodeMedia(obj.Body, key)
	if err != nil {
		return 0, err
	}
	var total float64
	for _, seg := range media.GetAllSegments() {
		total += seg.Duration
	}
	return time.Duration(total * float64(time.Second)), nil
}

// pictureSize is the largest RESOLUTION the master names, so the player
// keeps the video's shape; 0×0 when it names none.
func (it *Ittybit) pictureSize(ctx context.Context, key string) (width, height int) {
	obj, err := it.Store.Get(ctx, key, nil)
	if err != nil {
		return 0, 0
	}
	defer obj.Body.Close()
	pl, _, err := m3u8.DecodeFrom(obj.Body, false)
	master, ok := pl.(*m3u8.MasterPlaylist)
	if err != nil || !ok {
		return 0, 0
	}
	for _, v := range master.Variants {
		var w, h int
		if _, err := fmt.Sscanf(v.Resolution, "%dx%d", &w, &h); err == nil && w*h > width*height {
			width, height = w, h
		}
	}
	return width, height
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
