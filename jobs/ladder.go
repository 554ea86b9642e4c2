package jobs

import "strconv"

// rung is one rendition of the ladder.
type rung struct {
	Height       int
	VideoBitrate string
}

func (r rung) Name() string { return strconv.Itoa(r.Height) + "p" }

// fullLadder is highest first; bitrates for H.264 main profile at 30 fps.
var fullLadder = []rung{{1080, "5000k"}, {720, "2800k"}, {480, "1400k"}, {360, "800k"}}

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
		out = append(out, rung{h, "400k"})
	}
	return out
}
