package proxy

import (
	"errors"
	"path"
	"strings"
	"testing"
)

func TestParseKey(t *testing.T) {
	tok := strings.Repeat("h", 40) + "." + strings.Repeat("p", 120) + "." + strings.Repeat("s", 86)
	for _, tc := range []struct {
		in      string
		key     string
		wantErr error
	}{
		{"/streams/lecture/master.m3u8", "streams/lecture/master.m3u8", nil},
		{"/streams/lecture/720p/segment-0.ts", "streams/lecture/720p/segment-0.ts", nil},
		{"/streams/a_b-C9/init.mp4", "streams/a_b-C9/init.mp4", nil},
		{"/streams/x/subs/en.vtt", "streams/x/subs/en.vtt", nil},
		{"/streams/x/poster.jpg", "streams/x/poster.jpg", nil},
		{"/streams/x/../y/master.m3u8", "", errBadPath},
		{"/streams/../master.m3u8", "", errBadPath},
		{"/streams/x/./master.m3u8", "", errBadPath},
		{"/streams/x//master.m3u8", "", errBadPath},
		{"/streams/x/.hidden.ts", "", errBadPath},
		{"/streams/x/a\\..\\b.ts", "", errBadPath},
		{"/streams/x/a\x00.ts", "", errBadPath},
		{"/streams/x/seg ment.ts", "", errBadPath},
		{"/streams/x/%2e%2e/a.ts", "", errBadPath},
		{"/streams/x/" + strings.Repeat("a", 1100) + ".ts", "", errBadPath},
		{"/streams/x/" + strings.Repeat("a", 300) + ".ts", "", errBadPath},
		{"/streams/x/master.m3u8/", "", errBadPath},
		{"/streams/x/a/b/c/d/e/f/g/h.ts", "", errNotServed},
		{"/streams/master.m3u8", "", errNotServed},
		{"/streams/x/config.json", "", errNotServed},
		{"/streams/x/.env", "", errBadPath},
		{"/streams/x/noext", "", errNotServed},
		{"/streams/x/a.TS", "", errNotServed},
		{"/other/x/a.ts", "", errNotServed},
		// A signed URL: a token (two dots, longer than a name may be) in place of the id.
		{"/streams/" + tok + "/master.m3u8", "streams/" + tok + "/master.m3u8", nil},
		{"/streams/" + strings.Repeat("a", 300) + "/master.m3u8", "", errBadPath},
		{"/streams/x/" + tok + strings.Repeat("x", 20) + ".ts", "", errBadPath}, // only the first segment may be long
		{"/streams/" + tok + "." + strings.Repeat("a", 700) + "/master.m3u8", "", errBadPath},
	} {
		key, _, err := parseKey(tc.in)
		if key != tc.key || !errors.Is(err, tc.wantErr) {
			t.Errorf("parseKey(%q) = %q, %v; want %q, %v", tc.in, key, err, tc.key, tc.wantErr)
		}
	}
}

// FuzzParseKey: whatever the input, an accepted path yields a clean key
// inside streams/<id>/ with an allowed extension.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"/streams/a/master.m3u8", "/streams/a/720p/segment-1.ts", "/streams/../x.ts",
		"/streams/a/%2e%2e/b.ts", "/streams/a/..%2fb.ts", "/streams/a/b\x00.ts", "/streams/a//b.ts"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		key, ext, err := parseKey(in)
		if err != nil {
			return
		}
		if !strings.HasPrefix(key, "streams/") || path.Clean(key) != key || strings.Count(key, "/") < 2 {
			t.Fatalf("%q gave unclean key %q", in, key)
		}
		if strings.ContainsAny(key, "\\\x00%") || strings.Contains(key, "/.") {
			t.Fatalf("%q gave a dangerous key %q", in, key)
		}
		if _, ok := policies[ext]; !ok || path.Ext(key) != ext {
			t.Fatalf("%q gave extension %q outside the allow-list", in, ext)
		}
	})
}
