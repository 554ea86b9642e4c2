package jobs

import (
	"fmt"
	"testing"
)

func TestLadderNeverUpscales(t *testing.T) {
	for h, want := range map[int]string{
		2160: "[1080p 720p 480p 360p]", 1080: "[1080p 720p 480p 360p]", 1079: "[720p 480p 360p]",
		720: "[720p 480p 360p]", 500: "[480p 360p]", 360: "[360p]", 241: "[240p]", 1: "[2p]",
	} {
		var names []string
		for _, r := range ladderFor(h) {
			names = append(names, r.Name())
		}
		if got := fmt.Sprint(names); got != want {
			t.Errorf("ladderFor(%d) = %s, want %s", h, got, want)
		}
	}
}
