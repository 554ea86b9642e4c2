package jobs

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/playback"
	"github.com/edgehls/edge/storage"
)

// PublishPlayback writes the playback document from the database into
// storage, where every edge's proxy reads it, and has this edge's proxy
// read it at once. Publishes are serialised so an older snapshot never
// lands after a newer one.
func (m *Manager) PublishPlayback(ctx context.Context) error {
	m.publishMu.Lock()
	defer m.publishMu.Unlock()
	doc, err := m.playbackDocument(ctx)
	if err != nil {
		return err
	}
	if err := m.checkOwner(ctx, doc.Owner); err != nil {
		return err
	}
	data, err := doc.Marshal()
	if err != nil {
		return err
	}
	if err := m.Store.Put(ctx, playback.DocumentKey, bytes.NewReader(data), int64(len(data))); err != nil {
		return fmt.Errorf("publish %s: %w", playback.DocumentKey, err)
	}
	if m.Cache != nil {
		if err := m.Cache.RefreshRules(); err != nil {
			// Published all the same: the proxy reads it within its TTL.
			m.Log.Warn("read the playback document back", "err", err)
		}
	}
	return nil
}

// checkOwner refuses to overwrite a document another edge database
// published: a second edge writing the same storage would otherwise
// replace every rule with its own (none), making private streams public.
func (m *Manager) checkOwner(ctx context.Context, us string) error {
	obj, err := m.Store.Get(ctx, playback.DocumentKey, nil)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("read %s: %w", playback.DocumentKey, err)
	}
	defer obj.Body.Close()
	data, err := io.ReadAll(io.LimitReader(obj.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read %s: %w", playback.DocumentKey, err)
	}
	owner, err := playback.Owner(data)
	if err != nil || owner == "" || owner == us {
		return nil // ours, or unreadable: it is replaced
	}
	return fmt.Errorf("%s was published by edge database %s, this one is %s: %w", playback.DocumentKey, owner, us, ErrOtherOwner)
}

// ErrOtherOwner is a playback document published by another edge database.
var ErrOtherOwner = errors.New("an edge that shares another's media reads it with EDGE_ORIGIN and must not write to it with EDGE_STORAGE")

func (m *Manager) playbackDocument(ctx context.Context) (playback.Document, error) {
	doc := playback.Document{Keys: map[string]string{}, Streams: map[string]playback.Rule{}}
	owner, err := m.DB.InstanceID(ctx)
	if err != nil {
		return doc, err
	}
	doc.Owner = owner
	keys, err := m.DB.SigningKeys(ctx)
	if err != nil {
		return doc, err
	}
	for _, k := range keys {
		if k.RevokedAt.IsZero() {
			doc.Keys[k.ID] = k.PublicPEM
		}
	}
	rules, err := m.DB.StreamRules(ctx)
	if err != nil {
		return doc, err
	}
	for _, r := range rules {
		doc.Streams[r.ID] = playback.Rule{Signed: r.Signed, Origins: r.Origins}
	}
	deleted, err := m.DB.DeletedStreams(ctx)
	if err != nil {
		return doc, err
	}
	for _, id := range deleted {
		doc.Streams[id] = playback.Rule{Deleted: true}
	}
	return doc, nil
}

// UpdateStream changes a stream's settings; a change to its playback
// policy or its allowed sites reaches every edge within one playlist TTL
// (this one at once).
func (m *Manager) UpdateStream(ctx context.Context, id string, u db.StreamUpdate) error {
	if err := m.DB.UpdateStream(ctx, id, u); err != nil {
		return err
	}
	if u.Downloads != nil {
		st, err := m.DB.Stream(ctx, id)
		if err != nil {
			return err
		}
		if err := m.downloadsChanged(ctx, st); err != nil {
			return err
		}
	}
	if u.Playback == nil && u.EmbedDomains == nil {
		return nil
	}
	return m.PublishPlayback(ctx)
}

// CreateSigningKey makes a key for a CMS to sign tokens with. Its private
// part is returned here and kept nowhere.
func (m *Manager) CreateSigningKey(ctx context.Context, name string, by int64) (playback.NewKey, *db.SigningKey, error) {
	k, err := playback.GenerateKey()
	if err != nil {
		return playback.NewKey{}, nil, err
	}
	rec, err := m.DB.AddSigningKey(ctx, k.ID, name, k.PublicPEM, "", by)
	if err != nil {
		return playback.NewKey{}, nil, err
	}
	return k, rec, m.PublishPlayback(ctx)
}

// RevokeSigningKey stops a key's tokens opening anything, on every edge
// within one playlist TTL.
func (m *Manager) RevokeSigningKey(ctx context.Context, id string) error {
	if err := m.DB.RevokeSigningKey(ctx, id); err != nil {
		return err
	}
	return m.PublishPlayback(ctx)
}

// TokenRequest is what a token minted by edge says.
type TokenRequest struct {
	StreamID string
	TTL      time.Duration // how long it opens the stream
	Kind     string        // "", playback.KindVideo or playback.KindPoster
	IP       string        // the viewer's address or prefix; "" for any viewer
}

// MaxTokenTTL bounds a minted token's life: a link meant to live longer
// is a public stream.
const MaxTokenTTL = 366 * 24 * time.Hour

// MintToken signs a playback token with edge's own key, made (and
// published) the first time one is needed.
func (m *Manager) MintToken(ctx context.Context, req TokenRequest) (string, time.Time, error) {
	if req.TTL <= 0 || req.TTL > MaxTokenTTL {
		return "", time.Time{}, apperr.New(apperr.Invalid, "ttl: from 1 second to 366 days")
	}
	if !playback.ValidKind(req.Kind) {
		return "", time.Time{}, apperr.New(apperr.Invalid, `kind: "video", "poster" or none`)
	}
	if !playback.ValidIP(req.IP) {
		return "", time.Time{}, apperr.New(apperr.Invalid, "ip: an address such as 203.0.113.7 or a prefix such as 203.0.113.0/24")
	}
	if _, err := m.DB.Stream(ctx, req.StreamID); err != nil {
		return "", time.Time{}, err
	}
	kid, key, err := m.builtinKey(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	exp := time.Now().Add(req.TTL).Truncate(time.Second)
	token, err := playback.Mint(key, kid, playback.Claims{
		RegisteredClaims: jwt.RegisteredClaims{Subject: req.StreamID, ExpiresAt: jwt.NewNumericDate(exp)},
		Kind:             req.Kind, IP: req.IP,
	})
	return token, exp, err
}

// builtinKeyName names edge's own key in the key list.
const builtinKeyName = "edge (tokens minted by the API and the portal)"

func (m *Manager) builtinKey(ctx context.Context) (string, *ecdsa.PrivateKey, error) {
	m.keyMu.Lock()
	defer m.keyMu.Unlock()
	kid, pemText, err := m.DB.BuiltinSigningKey(ctx)
	if errors.Is(err, db.ErrNotFound) {
		k, genErr := playback.GenerateKey()
		if genErr != nil {
			return "", nil, genErr
		}
		if _, err := m.DB.AddSigningKey(ctx, k.ID, builtinKeyName, k.PublicPEM, k.PrivatePEM, 0); err != nil {
			return "", nil, err
		}
		if err := m.PublishPlayback(ctx); err != nil {
			return "", nil, err
		}
		kid, pemText, err = k.ID, k.PrivatePEM, nil
	}
	if err != nil {
		return "", nil, err
	}
	key, err := playback.ParsePrivateKey(pemText)
	if err != nil {
		return "", nil, fmt.Errorf("built-in signing key %s: %w", kid, err)
	}
	return kid, key, nil
}

// SweepDeleted deletes again what is under the prefix of streams deleted
// lately, for output a transcoder wrote after the delete (an Ittybit job
// goes on in the cloud), and drops streams from the document after their
// last sweep.
func (m *Manager) SweepDeleted(ctx context.Context) error {
	due, err := m.DB.DueSweeps(ctx)
	if err != nil {
		return err
	}
	republish := false
	for _, id := range due {
		if err := m.deletePrefix(ctx, m.Store, streamPrefix(id)); err != nil {
			return err
		}
		forgotten, err := m.DB.SweptDeleted(ctx, id)
		if err != nil {
			return err
		}
		republish = republish || forgotten
	}
	if republish {
		return m.PublishPlayback(ctx)
	}
	return nil
}
