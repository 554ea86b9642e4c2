package jobs

import (
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"
)

// TestRecordRetries: a bookkeeping write that fails for a moment (a busy
// database) is tried again; one that keeps failing is given up after the
// backoff, and reported.
func TestRecordRetries(t *testing.T) {
	saved := recordBackoff
	recordBackoff = []time.Duration{0, 0, 0, 0}
	t.Cleanup(func() { recordBackoff = saved })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		failures, calls int
		ok              bool
	}{{0, 1, true}, {2, 3, true}, {10, 4, false}} {
		calls := 0
		ok := record(log, "a test write", func() error {
			calls++
			if calls <= tc.failures {
				return errors.New("database is locked")
			}
			return nil
		})
		if ok != tc.ok || calls != tc.calls {
			t.Errorf("%d failures: ok %v after %d calls, want %v after %d", tc.failures, ok, calls, tc.ok, tc.calls)
		}
	}
}
