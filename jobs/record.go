package jobs

import (
	"log/slog"
	"time"

	"github.com/edgehls/edge/internal/apperr"
)

// recordBackoff paces a worker's tries at a bookkeeping write: a database
// busy or briefly out of space must not leave a stream "processing" with
// no job to finish it, nor a finished video unrecorded.
var recordBackoff = []time.Duration{0, 100 * time.Millisecond, 400 * time.Millisecond, 1600 * time.Millisecond, 6400 * time.Millisecond}

// record tries write until it succeeds or the backoff is spent, and says
// whether it succeeded; a last failure is logged.
func record(log *slog.Logger, what string, write func() error) bool {
	var err error
	for _, wait := range recordBackoff {
		time.Sleep(wait)
		if err = write(); err == nil {
			return true
		}
	}
	log.Error("record "+what, "err", err)
	return false
}

// safeMessage is what the content team reads of a failure: a *apperr.Error as
// it is, anything else as an id whose cause is in the log.
func safeMessage(log *slog.Logger, err error) string {
	if ue, ok := apperr.As(err); ok {
		log.Info("transcode failed", "err", err)
		return ue.Message
	}
	id := apperr.ID()
	log.Error("transcode failed", "error_id", id, "err", err)
	return "edge could not process this video (error id " + id + "); the cause is in edge's log"
}
