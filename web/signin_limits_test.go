package web_test

import (
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/edgehls/edge/web"
)

// behindProxy is an env whose loopback address is a trusted proxy, so
// X-Forwarded-For names each test client.
func behindProxy(t *testing.T) *env {
	_, loopback, _ := net.ParseCIDR("127.0.0.1/32")
	return newEnv(t, nil, func(c *web.Config) { c.TrustedProxies = []*net.IPNet{loopback} })
}

// signInFrom tries a password for ed@example.com from a client address.
func signInFrom(t *testing.T, e *env, email, password, ip string) int {
	b := e.browser(t)
	f := b.get("/signin")
	hdr := map[string]string{}
	if ip != "" {
		hdr["X-Forwarded-For"] = ip
	}
	return b.post("/signin", url.Values{"csrf": {f.csrf(t)}, "email": {email}, "password": {password}}, hdr).code
}

// TestSignInLimits: a stranger's wrong passwords lock out the stranger,
// not the account; an office behind one address is not locked out by a
// few typos; an IPv6 client counts by its /64; without a trusted proxy a
// forged X-Forwarded-For changes nothing.
func TestSignInLimits(t *testing.T) {
	e := behindProxy(t)
	for range 5 {
		signInFrom(t, e, "ed@example.com", "wrong horse!", "203.0.113.7")
	}
	if code := signInFrom(t, e, "ed@example.com", "correct horse", "203.0.113.7"); code != http.StatusTooManyRequests {
		t.Fatalf("the stranger's sixth try: %d, want 429", code)
	}
	if code := signInFrom(t, e, "ed@example.com", "correct horse", "198.51.100.2"); code != http.StatusSeeOther {
		t.Fatalf("the owner from elsewhere: %d, want to be signed in", code)
	}
	office := "198.51.100.9"
	for _, who := range []string{"ana", "bo", "cy", "di", "ed", "flo", "gus", "hal"} {
		signInFrom(t, e, who+"@example.com", "typo typo typo", office)
	}
	if code := signInFrom(t, e, "ed@example.com", "correct horse", office); code != http.StatusSeeOther {
		t.Fatalf("a colleague after eight typos in the office: %d", code)
	}
	for range 5 {
		signInFrom(t, e, "ed@example.com", "wrong horse!", "2001:db8:1:2::1")
	}
	if code := signInFrom(t, e, "ed@example.com", "correct horse", "2001:db8:1:2::ffff"); code != http.StatusTooManyRequests {
		t.Fatalf("same /64: %d, want 429", code)
	}

	direct := newEnv(t, nil) // no trusted proxy: the header is anyone's claim
	for i := range 5 {
		signInFrom(t, direct, "ed@example.com", "wrong horse!", "192.0.2."+itoa(int64(i)))
	}
	if code := signInFrom(t, direct, "ed@example.com", "correct horse", "192.0.2.99"); code != http.StatusTooManyRequests {
		t.Fatalf("a forged X-Forwarded-For evaded the limit: %d", code)
	}
}

// TestConcurrentGuessesAreCounted: a burst of guesses at once is held to
// the same five as guesses one by one.
func TestConcurrentGuessesAreCounted(t *testing.T) {
	e := newEnv(t, nil)
	const guesses = 40
	codes := make(chan int, guesses)
	var wg sync.WaitGroup
	for range guesses {
		wg.Go(func() { codes <- signInFrom(t, e, "ed@example.com", "wrong horse!", "") })
	}
	wg.Wait()
	close(codes)
	checked := 0
	for c := range codes {
		if c == http.StatusUnauthorized {
			checked++
		} else if c != http.StatusTooManyRequests {
			t.Fatalf("unexpected answer %d", c)
		}
	}
	if checked != 5 {
		t.Fatalf("%d of %d concurrent guesses were checked, want 5", checked, guesses)
	}
}
