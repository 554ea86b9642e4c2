// Package waitfor is for tests that wait on something another goroutine
// or process does: it polls a condition until it holds, for up to a minute.
package waitfor

import (
	"testing"
	"time"
)

// True returns once cond holds, and fails the test if it has not after a
// minute; what names the wait in that failure.
func True(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
	}
}
