package proxy

import (
	"slices"
	"testing"
)

func TestSuccessors(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want []string
	}{
		{"streams/a/720p/segment-12.ts", []string{"streams/a/720p/segment-13.ts", "streams/a/720p/segment-14.ts"}},
		{"streams/a/720p/segment-9.ts", []string{"streams/a/720p/segment-10.ts", "streams/a/720p/segment-11.ts"}},
		{"streams/a/1080p/seg0.m4s", []string{"streams/a/1080p/seg1.m4s", "streams/a/1080p/seg2.m4s"}},
		{"streams/a/720p/init.mp4", nil},   // no number ends the name
		{"streams/a/720p/segment.ts", nil}, // nor here
		{"streams/a/720p/x", nil},          // no extension
		{"streams/a/720p/7.ts", []string{"streams/a/720p/8.ts", "streams/a/720p/9.ts"}},
		{"streams/s7/720p/segment-99999999999.ts", nil}, // not a 32-bit number
	} {
		if got := successors(tc.key, 2); !slices.Equal(got, tc.want) {
			t.Errorf("successors(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}
