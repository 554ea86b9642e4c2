package jobs

import "strconv"

// rung is one rendition of the ladder.
type rung struct {
	Height int
	Kbps   int // video bitrate at quality "high"
}

func (r rung) Name() string { return strconv.Itoa(r.Height) + "p" }

// fullLadder is highest first; bitrates for H.264 main profile at 30 fps.
var fullLadder = []rung{{1080, 5000}, {720, 2800}, {480, 1400}, {360, 800}}

// qualityShare scales the bitrates: Ittybit's quality names, edge's numbers.
var qualityShare = map[string]int{"low": 50, "medium": 75, "high": 100}

// bitrate is the rung's video bitrate for a quality, as ffmpeg reads it.
func (r rung) bitrate(quality string) string {
	share, ok := qualityShare[quality]
	if !ok {
		share = 100
	}
	return strconv.Itoa(r.Kbps*share/100) + "k"
}

// ladderFor picks the rungs a source can fill, never upscaling. A source
// smaller than every rung gets one rendition at its own (even) height.
func ladderFor(sourceHeight int) []rung {
	var out []rung
	for _, r := range fullLadder {
		if r.Height <= sourceHeight {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		h := max(2, sourceHeight&^1)
		out = append(out, rung{h, 400})
	}
	return out
}
