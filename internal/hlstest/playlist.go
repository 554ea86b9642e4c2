package hlstest

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// Manifest is a playlist as video.js's m3u8-parser reads it: a parser edge
// does not use itself, so what edge writes is checked by a tool it did not
// write. `make test-deps` installs it (scripts/hlscheck).
type Manifest struct {
	Version         int
	TargetDuration  float64
	EndList         bool
	IFramesOnly     bool `json:"iFramesOnly"`
	Playlists       []Variant
	IFramePlaylists []Variant `json:"iFramePlaylists"`
	Segments        []Segment
	// MediaGroups is EXT-X-MEDIA by type, group and name.
	MediaGroups map[string]map[string]map[string]Media `json:"mediaGroups"`
}

// Media is one EXT-X-MEDIA rendition.
type Media struct {
	Language   string
	URI        string
	Default    bool
	Autoselect bool
}

// Variant is one EXT-X-STREAM-INF or EXT-X-I-FRAME-STREAM-INF.
type Variant struct {
	URI        string
	Attributes map[string]any
}

// Number reads a numeric attribute, which the parser gives as a number
// or, for some (AVERAGE-BANDWIDTH), as a string.
func (v Variant) Number(name string) float64 {
	switch x := v.Attributes[name].(type) {
	case float64:
		return x
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return 0
}

// Resolution reads RESOLUTION.
func (v Variant) Resolution() (width, height int) {
	r, _ := v.Attributes["RESOLUTION"].(map[string]any)
	w, _ := r["width"].(float64)
	h, _ := r["height"].(float64)
	return int(w), int(h)
}

// Segment is one media segment, or one I-frame of an I-frame playlist.
type Segment struct {
	URI       string
	Duration  float64
	ByteRange *ByteRange
	Map       *struct {
		URI       string
		ByteRange *ByteRange
	}
}

// ByteRange is EXT-X-BYTERANGE or a map's BYTERANGE.
type ByteRange struct{ Length, Offset int64 }

// ParsePlaylist parses a playlist with m3u8-parser; its warnings fail the
// test.
func ParsePlaylist(t testing.TB, text []byte) Manifest {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "hlscheck", "parse.js")
	cmd := exec.Command("node", script)
	cmd.Stdin = bytes.NewReader(text)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("m3u8-parser (run `make test-deps`): %v", err)
	}
	var res struct {
		Manifest Manifest
		Warnings []string
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("m3u8-parser output: %v", err)
	}
	if len(res.Warnings) > 0 {
		t.Fatalf("m3u8-parser warns %q on:\n%s", res.Warnings, text)
	}
	return res.Manifest
}
