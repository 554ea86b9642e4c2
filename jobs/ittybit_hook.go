package jobs

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/netip"
	"net/url"
	"strings"
	"sync"
)

// Ittybit documents no webhook signature, so a webhook proves nothing by
// itself. Its URL carries a per-job token, an HMAC of the stream ID under
// the API key: unguessable, the same after a restart (the resumed job keeps
// the URL it was created with), and nothing to store. A call with the right
// token only makes the waiting job fetch its state from the API at once;
// what the webhook says is never trusted.

// HookPath is where Ittybit's webhooks arrive, below edge's public URL.
const HookPath = "/hooks/ittybit/"

func (it *Ittybit) hookToken(streamID string) string {
	mac := hmac.New(sha256.New, []byte(it.APIKey))
	mac.Write([]byte("edge webhook for stream " + streamID))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// WebhookReachable says whether Ittybit may call a public URL back: its
// docs take https only, and a loopback, private or link-local address, or
// a name such as localhost, cannot be reached from its cloud. Otherwise
// polling alone follows the job.
func WebhookReachable(publicURL string) bool {
	u, err := url.Parse(publicURL)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if addr, err := netip.ParseAddr(host); err == nil {
		return addr.IsGlobalUnicast() && !addr.IsPrivate()
	}
	for _, local := range []string{"localhost", ".localhost", ".local", ".internal", ".lan", ".home.arpa"} {
		if host == strings.TrimPrefix(local, ".") || strings.HasSuffix(host, local) {
			return false
		}
	}
	return strings.Contains(host, ".")
}

// webhookURL is "" when edge is not reachable from Ittybit; polling alone
// then follows the job.
func (it *Ittybit) webhookURL(streamID string) string {
	if it.WebhookBase == "" {
		return ""
	}
	return it.WebhookBase + HookPath + streamID + "/" + it.hookToken(streamID)
}

// Hook takes a webhook call. A token that is not the stream's is refused
// (false); the right one makes the stream's job, if it is waiting, ask the
// API now.
func (it *Ittybit) Hook(streamID, token string) bool {
	if !hmac.Equal([]byte(token), []byte(it.hookToken(streamID))) {
		return false
	}
	it.bells.ring(streamID)
	return true
}

// bells wake the jobs waiting on Ittybit, by stream.
type bells struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

// listen returns the channel a webhook for streamID rings, and a function
// to stop listening.
func (b *bells) listen(streamID string) (<-chan struct{}, func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string]chan struct{}{}
	}
	ch := make(chan struct{}, 1)
	b.m[streamID] = ch
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.m[streamID] == ch {
			delete(b.m, streamID)
		}
	}
}

func (b *bells) ring(streamID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case b.m[streamID] <- struct{}{}:
	default: // nobody waiting, or already rung
	}
}
