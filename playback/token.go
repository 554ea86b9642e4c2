package playback

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Kinds a token may be limited to: the playable media, or the pictures
// (poster, thumbnails). A token without a kind opens both.
const (
	KindVideo  = "video"
	KindPoster = "poster"
)

// KindOf is the kind of a served file, by its extension.
func KindOf(ext string) string {
	if ext == ".jpg" {
		return KindPoster
	}
	return KindVideo
}

// Claims are what a playback token says. sub (the stream id) and exp are
// required; kind and ip narrow it.
type Claims struct {
	jwt.RegisteredClaims
	Kind string `json:"kind,omitempty"`
	// IP binds the token to one viewer: their address, or a prefix such as
	// 203.0.113.0/24 for viewers whose address moves within a network.
	IP string `json:"ip,omitempty"`
}

// Refusal is why a request for a signed stream was turned away; its text
// is safe to show the viewer.
type Refusal struct{ Reason string }

func (r *Refusal) Error() string { return r.Reason }

func refuse(format string, args ...any) error { return &Refusal{fmt.Sprintf(format, args...)} }

// ErrNoToken is a signed stream asked for by its id.
var ErrNoToken = &Refusal{"this video needs a signed link"}

// LooksLikeToken tells a token in a URL from a stream id: a JWT has dots,
// an id never does.
func LooksLikeToken(s string) bool { return strings.Count(s, ".") == 2 }

// Subject is the stream a token names, unchecked: for routing a request
// to its stream before Verify and Allows decide on it. "" if unreadable.
func Subject(token string) string {
	var c Claims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil {
		return ""
	}
	return c.Subject
}

// Verify checks a token's signature, key and times, and returns its
// claims. It does not say which stream it opens: see Allows.
func (r *Rules) Verify(token string, now time.Time) (*Claims, error) {
	if c, ok := r.verified.Get(token); ok && now.Before(c.ExpiresAt.Time) {
		return c, nil // its signature, key and nbf were checked; exp is checked again
	}
	var c Claims
	parser := jwt.NewParser(jwt.WithValidMethods([]string{Algorithm}), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }))
	_, err := parser.ParseWithClaims(token, &c, r.key)
	switch {
	case err == nil:
		r.verified.Add(token, &c)
		return &c, nil
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, refuse("this link has expired")
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return nil, refuse("this link is not valid yet")
	case errors.Is(err, errUnknownKey):
		return nil, refuse("this link was signed by an unknown or revoked key")
	default:
		return nil, refuse("this link's token is not valid")
	}
}

var errUnknownKey = errors.New("unknown key")

func (r *Rules) key(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	k, ok := r.keys[kid]
	if !ok {
		return nil, errUnknownKey
	}
	return k, nil
}

// Allows says whether verified claims open one file of one stream for a
// viewer at clientIP ("" when unknown).
func (c *Claims) Allows(streamID, kind, clientIP string) error {
	if c.Subject != streamID {
		return refuse("this link is for another video")
	}
	if c.Kind != "" && c.Kind != kind {
		return refuse("this link does not open the %s", kind)
	}
	if c.IP != "" && !ipMatches(c.IP, clientIP) {
		return refuse("this link was made for another viewer")
	}
	return nil
}

func ipMatches(claim, client string) bool {
	addr, err := netip.ParseAddr(client)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	if p, err := netip.ParsePrefix(claim); err == nil {
		return p.Contains(addr)
	}
	want, err := netip.ParseAddr(claim)
	return err == nil && want.Unmap() == addr
}

// Mint signs claims with a key; the CLI, the API and tests use it, and a
// CMS does the same with its own JWT library.
func Mint(key *ecdsa.PrivateKey, kid string, c Claims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	t.Header["kid"] = kid
	s, err := t.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// ValidKind says whether a kind claim is one edge knows.
func ValidKind(k string) bool { return k == "" || k == KindVideo || k == KindPoster }

// ValidIP says whether an ip claim is an address or a prefix.
func ValidIP(s string) bool {
	if s == "" {
		return true
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	_, err := netip.ParsePrefix(s)
	return err == nil
}
