package proxy

// policy is how one kind of file is served.
type policy struct {
	contentType []string // shared header value, never mutated
	manifest    bool     // playlists expire after the manifest TTL
	private     bool     // a signed stream's: no shared cache may keep it past its token
}

const immutable = "public, max-age=31536000, immutable"

// policies is the extension allow-list: anything else is 404 before the
// origin is asked.
var policies = map[string]policy{
	".m3u8": {contentType: []string{"application/vnd.apple.mpegurl"}, manifest: true},
	".ts":   {contentType: []string{"video/mp2t"}},
	".m4s":  {contentType: []string{"video/iso.segment"}},
	".mp4":  {contentType: []string{"video/mp4"}},
	".vtt":  {contentType: []string{"text/vtt"}},
	".aac":  {contentType: []string{"audio/aac"}},
	".jpg":  {contentType: []string{"image/jpeg"}},
}
