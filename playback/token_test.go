package playback

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/golang-jwt/jwt/v5"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// testRules publishes one key and returns the rules and the private key.
func testRules(t *testing.T) (*Rules, NewKey, *ecdsa.PrivateKey) {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ParsePrivateKey(k.PrivatePEM)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Document{Keys: map[string]string{k.ID: k.PublicPEM}, Streams: map[string]Rule{"abc": {Signed: true}}}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	return r, k, priv
}

func claims(sub string, exp time.Time) Claims {
	return Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: sub, ExpiresAt: jwt.NewNumericDate(exp)}}
}

func TestTokens(t *testing.T) {
	rules, key, priv := testRules(t)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	mint := func(c Claims, k *ecdsa.PrivateKey, kid string) string {
		s, err := Mint(k, kid, c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	noExp := Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "abc"}}
	later := claims("abc", t0.Add(time.Hour))
	video, poster := later, later
	video.Kind, poster.Kind = KindVideo, KindPoster
	bound, net := later, later
	bound.IP, net.IP = "203.0.113.7", "203.0.113.0/24"
	notYet := later
	notYet.NotBefore = jwt.NewNumericDate(t0.Add(time.Minute))
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, later)
	hs.Header["kid"] = key.ID
	hsToken, _ := hs.SignedString([]byte(key.PublicPEM)) // the algorithm-confusion attack
	none := jwt.NewWithClaims(jwt.SigningMethodNone, later)
	none.Header["kid"] = key.ID
	noneToken, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)

	tests := []struct {
		name, token, stream, kind, ip string
		want                          string // "" allowed, else the refusal
	}{
		{"valid", mint(later, priv, key.ID), "abc", KindVideo, "", ""},
		{"valid for the poster", mint(later, priv, key.ID), "abc", KindPoster, "", ""},
		{"expired", mint(claims("abc", t0.Add(-time.Second)), priv, key.ID), "abc", KindVideo, "", "this link has expired"},
		{"no exp", mint(noExp, priv, key.ID), "abc", KindVideo, "", "this link's token is not valid"},
		{"not yet", mint(notYet, priv, key.ID), "abc", KindVideo, "", "this link is not valid yet"},
		{"forged", mint(later, other, key.ID), "abc", KindVideo, "", "this link's token is not valid"},
		{"unknown key", mint(later, priv, "revoked"), "abc", KindVideo, "", "this link was signed by an unknown or revoked key"},
		{"HS256 with the public key", hsToken, "abc", KindVideo, "", "this link's token is not valid"},
		{"alg none", noneToken, "abc", KindVideo, "", "this link's token is not valid"},
		{"another stream", mint(later, priv, key.ID), "xyz", KindVideo, "", "this link is for another video"},
		{"video only, asked for the poster", mint(video, priv, key.ID), "abc", KindPoster, "", "this link does not open the poster"},
		{"poster only, asked for the video", mint(poster, priv, key.ID), "abc", KindVideo, "", "this link does not open the video"},
		{"bound to this viewer", mint(bound, priv, key.ID), "abc", KindVideo, "203.0.113.7", ""},
		{"bound to another viewer", mint(bound, priv, key.ID), "abc", KindVideo, "198.51.100.1", "this link was made for another viewer"},
		{"bound to a network", mint(net, priv, key.ID), "abc", KindVideo, "::ffff:203.0.113.99", ""},
		{"bound, viewer unknown", mint(bound, priv, key.ID), "abc", KindVideo, "", "this link was made for another viewer"},
		{"garbage", "a.b.c", "abc", KindVideo, "", "this link's token is not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := rules.Verify(tt.token, t0)
			if err == nil {
				err = c.Allows(tt.stream, tt.kind, tt.ip)
			}
			got := ""
			var r *Refusal
			if errors.As(err, &r) {
				got = r.Reason
			} else if err != nil {
				t.Fatalf("not a refusal: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// A CMS signs with its own JWT library: a token made by go-jose, which
// shares no code with the one edge verifies with, opens the stream.
func TestTokenSignedByAnotherLibrary(t *testing.T) {
	rules, key, priv := testRules(t)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: priv},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", key.ID))
	if err != nil {
		t.Fatal(err)
	}
	token, err := josejwt.Signed(signer).Claims(josejwt.Claims{Subject: "abc", Expiry: josejwt.NewNumericDate(t0.Add(time.Hour))}).
		Claims(map[string]any{"kind": "video"}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	if len(token) > 255 {
		t.Errorf("token is %d characters, more than one path segment of the proxy", len(token))
	}
	c, err := rules.Verify(token, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Allows("abc", KindVideo, ""); err != nil {
		t.Fatal(err)
	}
	if !LooksLikeToken(token) || LooksLikeToken("abcdefghijkl") {
		t.Error("LooksLikeToken cannot tell a token from an id")
	}
}

func TestDocument(t *testing.T) {
	if _, err := Parse([]byte(`{"version":2}`)); err == nil {
		t.Error("a newer document was read")
	}
	if _, err := Parse([]byte(`{"version":1,"keys":{"k":"nope"}}`)); err == nil {
		t.Error("a bad key was read")
	}
	if _, err := Parse([]byte(`{`)); err == nil {
		t.Error("bad JSON was read")
	}
	doc, _ := Document{Streams: map[string]Rule{"b": {Deleted: true}, "a": {Deleted: true}, "c": {Signed: true}}}.Marshal()
	r, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Deleted(); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("deleted = %v", got)
	}
	if !r.Stream("c").Signed || r.Stream("zzz").Signed || Everyone.Stream("c").Signed {
		t.Error("rules read wrong")
	}
}

func TestSiteAllowed(t *testing.T) {
	rule := Rule{Origins: []string{"example.com", "*.school.edu", "https://lms.test:8443", "http://old.test"}}
	tests := []struct {
		page string
		want bool
	}{
		{"https://example.com", true},
		{"http://example.com/page", true},
		{"https://example.com:444", false},
		{"https://www.example.com", false},
		{"https://a.school.edu/course/1", true},
		{"https://school.edu", false},
		{"https://evil-school.edu", false},
		{"https://lms.test:8443/x", true},
		{"https://lms.test", false},
		{"http://lms.test:8443", false},
		{"https://old.test", true}, // an http source also allows its https upgrade
		{"https://edge.test/embed/abc", true},
		{"https://other.test", false},
		{"null", false},
		{"", false},
		{"file:///etc/passwd", false},
	}
	for _, tt := range tests {
		if got := rule.SiteAllowed(tt.page, "edge.test"); got != tt.want {
			t.Errorf("SiteAllowed(%q) = %v, want %v", tt.page, got, tt.want)
		}
	}
	if !(Rule{}).SiteAllowed("https://anything.test", "edge.test") {
		t.Error("a rule without origins refused a site")
	}
}

// A remembered token still expires, and new rules (a key revoked) forget
// what the old ones accepted.
func TestRememberedTokensExpireAndDoNotOutliveTheirKey(t *testing.T) {
	rules, key, priv := testRules(t)
	token, err := Mint(priv, key.ID, claims("abc", t0.Add(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rules.Verify(token, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := rules.Verify(token, t0.Add(time.Minute)); err == nil || err.Error() != "this link has expired" {
		t.Fatalf("a remembered token past its exp: %v", err)
	}
	revoked, _ := Parse([]byte(`{"version":1}`))
	if _, err := revoked.Verify(token, t0); err == nil {
		t.Fatal("a token of a revoked key is still accepted")
	}
}
