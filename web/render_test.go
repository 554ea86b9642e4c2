package web

import (
	"testing"
	"time"
)

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "—"},
		{400 * time.Millisecond, "0.4 s"},
		{940 * time.Millisecond, "0.9 s"},
		{960 * time.Millisecond, "0:01"},
		{60024 * time.Millisecond, "1:00"},
		{59*time.Minute + 59600*time.Millisecond, "1:00:00"},
		{2*time.Hour + 3*time.Minute + 4*time.Second, "2:03:04"},
	} {
		if got := formatDuration(tc.d); got != tc.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
