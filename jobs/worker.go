package jobs

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
)

// DefaultJobTimeout bounds one transcode, so a source that decodes far
// slower than its size suggests cannot hold a slot of the queue for good.
const DefaultJobTimeout = 8 * time.Hour

// Worker runs queued streams through a Transcoder, Concurrency at a time.
type Worker struct {
	DB          *db.DB
	Transcoder  Transcoder
	Log         *slog.Logger
	Concurrency int           // default 1
	Poll        time.Duration // how often an idle slot looks at the queue; default 2s
	JobTimeout  time.Duration // longest a transcode may run before it fails; default 8h
	// BeforeReady, if set, finishes a transcoded stream's package before it
	// is marked ready (the Manager's FinishPackage: captions, the MP4
	// download). Its failure is logged; the stream is ready without it.
	BeforeReady func(ctx context.Context, streamID string) error

	wake    chan struct{}
	mu      sync.Mutex
	running map[string]runningJob
	once    sync.Once
}

type runningJob struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (w *Worker) init() {
	w.once.Do(func() {
		w.wake = make(chan struct{}, 1)
		w.running = map[string]runningJob{}
		w.Concurrency = max(1, w.Concurrency)
		if w.Poll <= 0 {
			w.Poll = 2 * time.Second
		}
		if w.JobTimeout <= 0 {
			w.JobTimeout = DefaultJobTimeout
		}
	})
}

// Run processes the queue until ctx ends. Streams that were processing when
// edge last stopped are queued again first, so none stays stuck.
func (w *Worker) Run(ctx context.Context) error {
	w.init()
	if n, err := w.DB.RequeueInterrupted(ctx); err != nil {
		return err
	} else if n > 0 {
		w.Log.Info("requeued streams interrupted by the last stop", "count", n)
	}
	var wg sync.WaitGroup
	for range w.Concurrency {
		wg.Go(func() { w.slot(ctx) })
	}
	wg.Wait()
	return nil
}

// Wake makes an idle slot look at the queue now.
func (w *Worker) Wake() {
	w.init()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Cancel stops the job running for a stream, if any, and waits until it
// has stopped, so nothing it was uploading lands after the caller cleans up.
func (w *Worker) Cancel(streamID string) bool {
	w.init()
	w.mu.Lock()
	job, ok := w.running[streamID]
	w.mu.Unlock()
	if !ok {
		return false
	}
	job.cancel()
	select {
	case <-job.done:
	case <-time.After(30 * time.Second):
		w.Log.Warn("cancelled transcode still running after 30s", "stream", streamID)
	}
	return true
}

func (w *Worker) slot(ctx context.Context) {
	for ctx.Err() == nil {
		st, err := w.DB.ClaimNextStream(ctx)
		if err == nil {
			w.process(ctx, st)
			continue
		}
		if !errors.Is(err, db.ErrNotFound) && ctx.Err() == nil {
			w.Log.Error("claim next stream", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-w.wake:
		case <-time.After(w.Poll):
		}
	}
}

func (w *Worker) process(ctx context.Context, st *db.Stream) {
	log := w.Log.With("stream", st.ID, "transcoder", w.Transcoder.Name())
	// Bookkeeping must outlive a shutdown that cancels ctx.
	keep := context.WithoutCancel(ctx)
	var job *db.Job
	if !record(log, "a new job", func() (err error) { job, err = w.DB.CreateJob(keep, st.ID, w.Transcoder.Name()); return err }) {
		// No job to run it: back in the queue, not "processing" for good.
		record(log, "a requeue", func() error { return w.DB.SetStreamState(keep, st.ID, db.StatusQueued, 0, "") })
		return
	}
	record(log, "a running job", func() error { return w.DB.SetJobState(keep, job.ID, "running", "") })
	jobCtx, cancel := context.WithTimeout(ctx, w.JobTimeout)
	done := make(chan struct{})
	w.mu.Lock()
	w.running[st.ID] = runningJob{cancel, done}
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		delete(w.running, st.ID)
		w.mu.Unlock()
		cancel()
		close(done)
	}()

	log.Info("transcoding", "source", st.SourceKey)
	start := time.Now()
	res, err := w.Transcoder.Transcode(jobCtx, st.ID, st.SourceKey, w.progress(keep, st.ID))
	switch {
	case err == nil:
		w.finish(keep, log, st.ID, job.ID, res, time.Since(start))
	case ctx.Err() != nil: // edge is stopping: the next start runs it again
		record(log, "an interrupted job", func() error { return w.DB.SetJobState(keep, job.ID, "interrupted", "edge stopped") })
		record(log, "a requeue", func() error { return w.DB.SetStreamState(keep, st.ID, db.StatusQueued, 0, "") })
		log.Info("transcode interrupted by shutdown; requeued")
	case errors.Is(jobCtx.Err(), context.DeadlineExceeded):
		w.fail(keep, log, st.ID, job.ID, apperr.Errorf(apperr.Invalid, "the transcode took longer than edge allows (%s) and was stopped", roundDuration(w.JobTimeout)))
	case jobCtx.Err() != nil: // cancelled, as when the stream is deleted
		record(log, "a cancelled job", func() error { return w.DB.SetJobState(keep, job.ID, "cancelled", "") })
		log.Info("transcode cancelled")
	default:
		w.fail(keep, log, st.ID, job.ID, err)
	}
}

func (w *Worker) finish(ctx context.Context, log *slog.Logger, streamID string, jobID int64, res Result, took time.Duration) {
	if w.BeforeReady != nil {
		if err := w.BeforeReady(ctx, streamID); err != nil {
			log.Error("finish the stream's package: it is ready without its captions", "err", err)
		}
	}
	ok := record(log, "a finished transcode", func() error {
		if err := w.DB.SetStreamOutput(ctx, streamID, db.StreamOutput{
			Duration: res.Duration, Renditions: res.Renditions, PosterKey: res.PosterKey, Width: res.Width, Height: res.Height, Warning: res.Warning}); err != nil {
			return err
		}
		return w.DB.SetStreamState(ctx, streamID, db.StatusReady, 100, "")
	})
	if !ok {
		return // still "processing": the next start queues it again
	}
	record(log, "a succeeded job", func() error { return w.DB.SetJobState(ctx, jobID, "succeeded", "") })
	log.Info("stream ready", "renditions", res.Renditions, "duration", res.Duration, "took", took.Round(time.Millisecond))
}

// fail records a failure in words for the content team; anything but a
// *apperr.Error is shown as an error id, its text only in the log.
func (w *Worker) fail(ctx context.Context, log *slog.Logger, streamID string, jobID int64, err error) {
	msg := safeMessage(log, err)
	record(log, "a failed job", func() error { return w.DB.SetJobState(ctx, jobID, "failed", msg) })
	record(log, "a failed stream", func() error { return w.DB.SetStreamState(ctx, streamID, db.StatusFailed, 0, msg) })
}

// progress writes at most one update a second, and only when it changed.
func (w *Worker) progress(ctx context.Context, streamID string) func(int) {
	last, lastAt := -1, time.Time{}
	return func(pct int) {
		if pct == last || time.Since(lastAt) < time.Second {
			return
		}
		last, lastAt = pct, time.Now()
		if err := w.DB.SetStreamState(ctx, streamID, db.StatusProcessing, pct, ""); err != nil {
			w.Log.Warn("record progress", "stream", streamID, "err", err)
		}
	}
}
