package web

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/edgehls/edge/db"
)

// signInWindow is how long a failed sign-in counts.
const signInWindow = 15 * time.Minute

// signInLimit is one count of failed sign-ins and when it blocks.
type signInLimit struct {
	key string
	max int
}

// signInLimits are the counts one attempt is held to. A stranger's wrong
// passwords block that stranger's address for that account, not the
// account; an office behind one address needs 50 typos in 15 minutes to
// be stopped; an account guessed at from everywhere (100) is locked until
// the window passes or `edge user unlock`.
func signInLimits(email, ip string) []signInLimit {
	return []signInLimit{
		{db.AccountAddressKey(email, ip), 5},
		{db.AddressKey(ip), 50},
		{db.AccountKey(email), 100},
	}
}

// signInGuard counts failed sign-ins in the database. Checking the limits
// and counting the attempt are one step under mu, and an attempt counts as
// a failure until its password is known to be right, so a burst of
// concurrent guesses cannot all reach bcrypt.
type signInGuard struct {
	mu  sync.Mutex
	db  *db.DB
	now func() time.Time
}

// attempt is a sign-in under way: the failures counted for it so far.
type attempt struct {
	ids    []int64
	limits []signInLimit
}

// begin admits an attempt, or says how long to wait.
func (g *signInGuard) begin(ctx context.Context, email, ip string) (*attempt, time.Duration, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	a := &attempt{limits: signInLimits(email, ip)}
	since := g.now().Add(-signInWindow)
	for _, l := range a.limits {
		n, oldest, err := g.db.CountSignInFailures(ctx, l.key, since)
		if err != nil {
			return nil, 0, err
		}
		if n >= l.max {
			return nil, oldest.Add(signInWindow).Sub(g.now()), nil
		}
	}
	for _, l := range a.limits {
		id, err := g.db.AddSignInFailure(ctx, l.key)
		if err != nil {
			return nil, 0, err
		}
		a.ids = append(a.ids, id)
	}
	return a, 0, nil
}

// succeeded un-counts the attempt and what this address failed at this
// account before.
func (g *signInGuard) succeeded(ctx context.Context, a *attempt) error {
	return g.db.RemoveSignInFailures(ctx, a.ids, a.limits[0].key)
}

// limitKey is the address limits count by: an IPv6 client usually holds a
// whole /64, so it is one key, as an IPv4 address is.
func limitKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if addr.Is4() || addr.Is4In6() {
		return addr.Unmap().String()
	}
	p, _ := addr.Prefix(64)
	return p.String()
}
