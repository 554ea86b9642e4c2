// Package playback is who may play what: the playback document edge
// publishes into the origin (each stream's policy, allowed origins and
// deletion, and the signing keys' public parts), and the JWTs that open a
// signed stream. Any edge that reads the same origin enforces the same
// rules without a database.
package playback

import (
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"slices"

	lru "github.com/hashicorp/golang-lru/v2"
)

// DocumentKey is where the document lives in the origin: beside the
// streams, under the prefix a CloudFront origin serves, and unreachable
// through the proxy (one path segment, and .json is not served).
const DocumentKey = "streams/playback.json"

// Policy values, as the API and the portal spell them.
const (
	Public = "public"
	Signed = "signed"
)

// Document is the published form. Streams lists only those that differ
// from the default (public, playable from anywhere, not deleted).
type Document struct {
	Version int `json:"version"`
	// Owner is the id of the edge database that publishes the document;
	// another one must not overwrite it.
	Owner   string            `json:"owner"`
	Keys    map[string]string `json:"keys"`    // kid → public key, PEM (SubjectPublicKeyInfo)
	Streams map[string]Rule   `json:"streams"` // stream id → its rule
}

// Rule is one stream's playback rule.
type Rule struct {
	Signed bool `json:"signed,omitempty"`
	// Origins are the sites (CSP host sources, as the embed rules) whose
	// pages may fetch the media; empty means any.
	Origins []string `json:"allowed_origins,omitempty"`
	// Deleted marks a stream gone: nothing under its prefix is served,
	// even output a transcoder writes after the delete.
	Deleted bool `json:"deleted,omitempty"`
}

// DocumentVersion is the format written; a reader refuses a newer one
// rather than guess at it.
const DocumentVersion = 1

// Owner reads only the owner of a published document.
func Owner(data []byte) (string, error) {
	var d struct {
		Owner string `json:"owner"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return "", fmt.Errorf("playback document: %w", err)
	}
	return d.Owner, nil
}

// Rules is a parsed document, ready to judge requests.
type Rules struct {
	keys    map[string]*ecdsa.PublicKey
	streams map[string]Rule
	// verified remembers tokens these rules accepted: a viewer's player
	// sends the same token with every segment, and an ES256 check costs
	// about 126 µs. New rules (a key revoked) start with none.
	verified *lru.Cache[string, *Claims]
}

// verifiedMax bounds the tokens remembered, a few per viewer watching.
const verifiedMax = 16384

// Everyone is the rules when no document was published: every stream
// public, and no key to open anything with.
var Everyone = mustParse(`{"version":1}`)

func mustParse(doc string) *Rules {
	r, err := Parse([]byte(doc))
	if err != nil {
		panic(err)
	}
	return r
}

// Parse reads a published document.
func Parse(data []byte) (*Rules, error) {
	var d Document
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("playback document: %w", err)
	}
	if d.Version != DocumentVersion {
		return nil, fmt.Errorf("playback document: version %d, this edge reads %d", d.Version, DocumentVersion)
	}
	r := &Rules{keys: make(map[string]*ecdsa.PublicKey, len(d.Keys)), streams: d.Streams}
	r.verified, _ = lru.New[string, *Claims](verifiedMax)
	for kid, pemText := range d.Keys {
		k, err := ParsePublicKey(pemText)
		if err != nil {
			return nil, fmt.Errorf("playback document: key %s: %w", kid, err)
		}
		r.keys[kid] = k
	}
	return r, nil
}

// Stream is the rule of one stream; the zero Rule when it has none.
func (r *Rules) Stream(id string) Rule { return r.streams[id] }

// Deleted lists the streams marked deleted, for caches to forget them.
func (r *Rules) Deleted() []string {
	var ids []string
	for id, rule := range r.streams {
		if rule.Deleted {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Marshal writes a document, keys and streams in a stable order.
func (d Document) Marshal() ([]byte, error) {
	d.Version = DocumentVersion
	if d.Keys == nil {
		d.Keys = map[string]string{}
	}
	if d.Streams == nil {
		d.Streams = map[string]Rule{}
	}
	return json.MarshalIndent(d, "", " ")
}
