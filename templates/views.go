// Package templates renders the portal's pages (templ). It knows nothing of
// the database: web fills these plain view structs.
package templates

// Page is what every signed-in page's frame needs.
type Page struct {
	Title     string
	Nav       string // "videos", "tokens", "users": the current section
	UserEmail string
	IsAdmin   bool
	CSRF      string
	Flash     string
	CSSURL    string
	ScriptURL string
}

// SignIn is the sign-in form.
type SignIn struct {
	CSSURL string
	CSRF   string
	Email  string
	Next   string
	Error  string
}

// Setup is the first-admin form reached from the start-up log's link.
type Setup struct {
	CSSURL string
	CSRF   string
	Token  string
	Email  string
	Error  string
}

// VideoRow is one line of the video list.
type VideoRow struct {
	ID        string
	Title     string
	Status    string
	Progress  int
	Duration  string
	Created   string
	PosterURL string // empty: no poster yet
	URL       string
}

// VideoList is the portal's home page.
type VideoList struct {
	Page
	Rows    []VideoRow
	Query   string
	Total   int
	From    int
	To      int
	PrevURL string
	NextURL string
	APIHint string // a curl command creating a video, shown when there are none
	LastURL string // the last page, for a page past it
}

// JobRow is one transcoding attempt in a video's history.
type JobRow struct {
	Backend string
	Status  string
	Error   string
	Created string
}

// VideoDetail is one video's page.
type VideoDetail struct {
	Page
	ID         string
	Title      string
	Status     string
	Progress   int
	Error      string
	Warning    string
	Duration   string
	Created    string
	Source     string
	MasterURL  string
	PlayerURL  string
	WatchURL   string
	EmbedCode  string
	Renditions []string
	Jobs       []JobRow
	FormError  string
	// EmbedDomains lists the sites allowed to frame the player, one a line.
	EmbedDomains string
	EmbedError   string
	// Playback is "public" or "signed"; TestLink is a player link with a
	// token valid one hour, for a signed stream that is ready.
	Playback      string
	PlaybackError string
	TestLink      string
	Captions      []CaptionRow
	CaptionError  string
	// PreviewURL is the player for the team (with a token for a signed
	// stream); "" until the video is ready. PosterURL is its poster.
	PreviewURL  string
	PosterURL   string
	PosterError string
	AudioOnly   bool
	// Downloads says the video offers an MP4; DownloadURL is the file once
	// made ("" while it is being made), saved as DownloadName.
	Downloads    bool
	DownloadURL  string
	DownloadName string
}

// CaptionRow is one language's captions of a video.
type CaptionRow struct {
	Language, Label, Added string
	Cues                   int
}

// SigningKeys is the signing keys page.
type SigningKeys struct {
	Page
	NewKeyID      string
	NewPrivateKey string // shown once, on the page that creates it
	FormError     string
	Rows          []SigningKeyRow
}

// SigningKeyRow is one key, without its private part.
type SigningKeyRow struct {
	ID, Name, Created, Revoked string
	Builtin                    bool
}

// TokenRow is one API token, without its secret.
type TokenRow struct {
	ID       int64
	Name     string
	Prefix   string
	Created  string
	LastUsed string
}

// Tokens is the API tokens page. NewSecret is shown once, right after
// creation.
type Tokens struct {
	Page
	Rows      []TokenRow
	NewSecret string
	FormError string
}

// UserRow is one account on the users page.
type UserRow struct {
	ID      int64
	Email   string
	Role    string
	Created string
	IsSelf  bool
}

// Users is the admins' page for managing accounts.
type Users struct {
	Page
	Rows        []UserRow
	FormError   string
	NewEmail    string
	NewPassword string // shown once when edge generated it
}

// Upload is the browser upload page.
type Upload struct {
	Page
	Scripts   []string // tus-js-client, then the page's script
	ChunkSize int64    // bytes a PATCH carries; 0 lets tus-js-client send the file in one
	// The import form, shown again with its values when refused.
	ImportURL, ImportTitle, ImportError string
}

// Webhooks is the outgoing webhooks page. NewSecret is shown once, right
// after the endpoint is added.
type Webhooks struct {
	Page
	NewID                 int64
	NewSecret             string
	FormError             string
	URLValue, Description string // what was typed, shown again with its error
	Events                []string
	Rows                  []WebhookRow
}

// WebhookRow is one endpoint, without its secret.
type WebhookRow struct {
	ID                        int64
	URL, Description, Created string
	Pending, Failed           int // among its latest deliveries
}

// WebhookDetail is one endpoint and its delivery log.
type WebhookDetail struct {
	Page
	WebhookRow
	Deliveries []DeliveryRow
}

// DeliveryRow is one event's delivery to an endpoint.
type DeliveryRow struct {
	ID                                 int64
	Event, StreamID, WebhookID, At     string
	State, Codes, LastError, NextRetry string
}

// Account is the signed-in user's own page.
type Account struct {
	Page
	FormError string
}
