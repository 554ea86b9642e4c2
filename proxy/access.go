package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgehls/edge/playback"
	"github.com/edgehls/edge/storage"
)

// rulesFlight is the singleflight key of the playback document's fetch;
// no object key starts with a NUL.
const rulesFlight = "\x00playback"

// maxDocumentBytes bounds the playback document read from the origin.
const maxDocumentBytes = 16 << 20

// rulesSnapshot is the playback document as last read, kept for the
// manifest TTL like a playlist: a policy change reaches every edge that
// shares the origin within that time.
type rulesSnapshot struct {
	rules      *playback.Rules
	expires    time.Time
	staleUntil time.Time
}

// access is what the proxy knows of who may play what.
type access struct {
	now     atomic.Pointer[rulesSnapshot]
	mu      sync.Mutex
	deleted map[string]bool // the last document's deleted streams, purged here already
}

// rules returns the playback rules in force, reading the document once
// per TTL for all requests. While the origin fails, the last rules read
// stand in for as long as stale playlists may.
func (p *Proxy) rules(now time.Time) (*playback.Rules, error) {
	s := p.access.now.Load()
	if s != nil && now.Before(s.expires) {
		return s.rules, nil
	}
	v, err, _ := p.flight.Do(rulesFlight, func() (any, error) { return p.loadRules() })
	if err == nil {
		return v.(*playback.Rules), nil
	}
	if s != nil && now.Before(s.staleUntil) {
		return s.rules, nil
	}
	return nil, err
}

// RefreshRules reads the playback document now, so a change made on this
// edge applies to its next request.
func (p *Proxy) RefreshRules() error {
	_, err, _ := p.flight.Do(rulesFlight, func() (any, error) { return p.loadRules() })
	return err
}

func (p *Proxy) loadRules() (*playback.Rules, error) {
	rules, err := p.readRules()
	if err != nil {
		p.metrics.originErrors.Add(1)
		p.log.Warn("playback document", "err", err)
		if s := p.access.now.Load(); s != nil {
			// Ask again after one TTL, not on every request.
			retry := *s
			retry.expires = p.cfg.Now().Add(p.cfg.ManifestTTL)
			p.access.now.Store(&retry)
		}
		return nil, err
	}
	p.forgetDeleted(rules)
	now := p.cfg.Now()
	expires := now.Add(p.cfg.ManifestTTL)
	p.access.now.Store(&rulesSnapshot{rules, expires, expires.Add(p.cfg.StaleIfError)})
	return rules, nil
}

func (p *Proxy) readRules() (*playback.Rules, error) {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.OriginTimeout)
	defer cancel()
	p.metrics.originFetches.Add(1)
	obj, err := p.cfg.Origin.Get(ctx, playback.DocumentKey, nil)
	if errors.Is(err, storage.ErrNotFound) {
		return playback.Everyone, nil // nothing published: every stream is public
	} else if err != nil {
		return nil, err
	}
	defer obj.Body.Close()
	data, err := io.ReadAll(io.LimitReader(obj.Body, maxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", playback.DocumentKey, err)
	}
	if len(data) > maxDocumentBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", playback.DocumentKey, maxDocumentBytes)
	}
	return playback.Parse(data)
}

// forgetDeleted purges streams the document newly marks deleted: an edge
// that missed the purge call learns of the delete within one TTL.
func (p *Proxy) forgetDeleted(rules *playback.Rules) {
	p.access.mu.Lock()
	defer p.access.mu.Unlock()
	deleted, fresh := map[string]bool{}, map[string]bool{}
	for _, id := range rules.Deleted() {
		deleted[id] = true
		if !p.access.deleted[id] {
			fresh[id] = true
		}
	}
	p.access.deleted = deleted
	if len(fresh) > 0 {
		p.purgeWhere(fmt.Sprintf("%d deleted streams", len(fresh)), func(key string) bool {
			id, _ := splitKey(key)
			return fresh[id]
		})
	}
}

// admit decides whether a request may have its object: it resolves a
// token to its stream (returning the object key) and applies the stream's
// rule. A refusal is a *playback.Refusal (403); a deleted stream is
// errNotServed (404, the origin never asked).
func (p *Proxy) admit(r *http.Request, key, ext string, now time.Time) (string, playback.Rule, error) {
	rules, err := p.rules(now)
	if err != nil {
		return "", playback.Rule{}, err
	}
	id, file := splitKey(key)
	var claims *playback.Claims
	if playback.LooksLikeToken(id) {
		if claims, err = rules.Verify(id, now); err != nil {
			return "", playback.Rule{}, err
		}
		if id = claims.Subject; !plainName(id, maxSegmentLen) || playback.LooksLikeToken(id) {
			return "", playback.Rule{}, &playback.Refusal{Reason: "this link's token names no video"}
		}
		key = PathPrefix[1:] + id + "/" + file
	}
	rule := rules.Stream(id)
	switch {
	case rule.Deleted:
		return "", rule, errNotServed
	case claims != nil:
		err = claims.Allows(id, playback.KindOf(ext), p.clientIP(r))
	case rule.Signed:
		err = playback.ErrNoToken
	}
	if err == nil && !siteAllowed(rule, r) {
		err = errOtherSite
	}
	return key, rule, err
}

var errOtherSite = &playback.Refusal{Reason: "this video may not be played on this site"}

// siteAllowed applies a stream's allowed origins to the page asking: its
// Origin, else its Referer. A request with neither (a player app, curl)
// passes: this is a deterrent against other sites' players, and signing
// is the protection.
func siteAllowed(rule playback.Rule, r *http.Request) bool {
	if len(rule.Origins) == 0 {
		return true
	}
	if o := r.Header.Get("Origin"); o != "" {
		return rule.SiteAllowed(o, r.Host)
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		return rule.SiteAllowed(ref, r.Host)
	}
	return true
}

func (p *Proxy) clientIP(r *http.Request) string {
	if p.cfg.ClientIP != nil {
		return p.cfg.ClientIP(r)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// corsFor answers CORS for a stream with allowed origins: only those
// sites get Access-Control-Allow-Origin.
func corsFor(h http.Header, rule playback.Rule, r *http.Request) {
	if len(rule.Origins) == 0 {
		return
	}
	h["Vary"] = varyOrigin
	delete(h, "Access-Control-Allow-Origin")
	if o := r.Header.Get("Origin"); o != "" && rule.SiteAllowed(o, r.Host) && !strings.EqualFold(o, "null") {
		h["Access-Control-Allow-Origin"] = []string{o}
	}
}

// CheckToken says whether token opens stream id's kind of file for this
// viewer, by the rules the media will be served by, so a page can show
// the reason instead of a player that cannot load. An empty token passes
// for a stream that needs none.
func (p *Proxy) CheckToken(r *http.Request, id, token, kind string) error {
	now := p.cfg.Now()
	rules, err := p.rules(now)
	if err != nil {
		return err
	}
	if token == "" {
		if rules.Stream(id).Signed {
			return playback.ErrNoToken
		}
		return nil
	}
	claims, err := rules.Verify(token, now)
	if err != nil {
		return err
	}
	return claims.Allows(id, kind, p.clientIP(r))
}
