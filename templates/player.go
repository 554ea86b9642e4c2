package templates

// Player is the embeddable player page.
type Player struct {
	StreamID  string
	Title     string
	State     string // ready, processing, queued, uploading, failed, missing
	Message   string // shown over the frame when State is not ready
	SrcURL    string // master playlist, same origin as the page
	PosterURL string
	AudioOnly bool // an audio-only stream: the frame shows its cover art or a sound mark
	Autoplay  bool
	Muted     bool
	Loop      bool
	Controls  bool
	Start     string // seconds, "" for the beginning
	Captions  string // a language to show captions in from the start (captions=en); "" off
	CSSURL    string
	HlsURL    string
	ScriptURL string
}

// Watch is the shareable full page around the player.
type Watch struct {
	Title     string
	WatchURL  string
	EmbedURL  string
	OEmbedURL string // "" for a private video: no link preview
	PosterURL string // absolute, for link previews
	CSSURL    string
	Width     int
	Height    int
	Spacer    string // an image of the video's ratio the stage takes its shape from
}
