package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edgehls/edge/db"
)

func TestPlaybackPolicyAndRules(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	pub := must[*db.Stream](t)(d.CreateStream(ctx, db.NewStream{Title: "public"}))
	sig := must[*db.Stream](t)(d.CreateStream(ctx, db.NewStream{Title: "course", Playback: db.PlaybackSigned}))
	dom := must[*db.Stream](t)(d.CreateStream(ctx, db.NewStream{Title: "site"}))
	noErr(t, d.SetEmbedDomains(ctx, dom.ID, []string{"example.com"}))
	if _, err := d.CreateStream(ctx, db.NewStream{Title: "x", Playback: "secret"}); !errors.Is(err, db.ErrInvalid) {
		t.Fatalf("an unknown policy: %v", err)
	}
	private, public := "private", db.PlaybackPublic
	if err := d.UpdateStream(ctx, pub.ID, db.StreamUpdate{Playback: &private}); !errors.Is(err, db.ErrInvalid) {
		t.Fatalf("an unknown policy: %v", err)
	}
	if got := must[*db.Stream](t)(d.Stream(ctx, pub.ID)).Playback; got != db.PlaybackPublic {
		t.Fatalf("default policy %q", got)
	}
	rules := must[[]db.StreamRule](t)(d.StreamRules(ctx))
	want := map[string]db.StreamRule{sig.ID: {ID: sig.ID, Signed: true}, dom.ID: {ID: dom.ID, Origins: []string{"example.com"}}}
	if len(rules) != 2 {
		t.Fatalf("rules %v", rules)
	}
	for _, r := range rules {
		w := want[r.ID]
		if r.Signed != w.Signed || len(r.Origins) != len(w.Origins) {
			t.Errorf("rule %+v, want %+v", r, w)
		}
	}
	noErr(t, d.UpdateStream(ctx, sig.ID, db.StreamUpdate{Playback: &public}))
	if n := len(must[[]db.StreamRule](t)(d.StreamRules(ctx))); n != 1 {
		t.Fatalf("%d rules after making the course public", n)
	}
}

func TestSigningKeys(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	if _, _, err := d.BuiltinSigningKey(ctx); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("built-in key before any: %v", err)
	}
	must[*db.SigningKey](t)(d.AddSigningKey(ctx, "cms", "Our CMS", "PUBLIC", "", 0))
	must[*db.SigningKey](t)(d.AddSigningKey(ctx, "own", "edge", "PUBLIC2", "PRIVATE", 0))
	if _, err := d.AddSigningKey(ctx, "x", " ", "P", "", 0); !errors.Is(err, db.ErrInvalid) {
		t.Fatalf("an empty name: %v", err)
	}
	if _, err := d.AddSigningKey(ctx, "cms", "again", "P", "", 0); err == nil {
		t.Fatal("a key id was used twice")
	}
	id, priv, err := d.BuiltinSigningKey(ctx)
	if err != nil || id != "own" || priv != "PRIVATE" {
		t.Fatalf("built-in key %q %q %v", id, priv, err)
	}
	noErr(t, d.RevokeSigningKey(ctx, "own"))
	if err := d.RevokeSigningKey(ctx, "own"); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("revoked twice: %v", err)
	}
	if _, _, err := d.BuiltinSigningKey(ctx); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("a revoked built-in key is still used: %v", err)
	}
	keys := must[[]db.SigningKey](t)(d.SigningKeys(ctx))
	if len(keys) != 2 {
		t.Fatalf("keys %v", keys)
	}
	for _, k := range keys {
		if (k.ID == "own") != !k.RevokedAt.IsZero() || (k.ID == "own") != k.Builtin {
			t.Errorf("key %+v", k)
		}
	}
}

func TestDeletedStreamSweeps(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	d.SetClock(func() time.Time { return now })
	noErr(t, d.MarkDeleted(ctx, "gone"))
	noErr(t, d.MarkDeleted(ctx, "gone")) // a repeated delete keeps the first schedule
	if ids := must[[]string](t)(d.DeletedStreams(ctx)); len(ids) != 1 || ids[0] != "gone" {
		t.Fatalf("deleted %v", ids)
	}
	for i, after := range db.DeletedStreamSweeps {
		now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).Add(after - time.Second)
		if due := must[[]string](t)(d.DueSweeps(ctx)); len(due) != 0 {
			t.Fatalf("sweep %d due a second early", i)
		}
		now = now.Add(time.Second)
		if due := must[[]string](t)(d.DueSweeps(ctx)); len(due) != 1 {
			t.Fatalf("sweep %d not due", i)
		}
		forgotten := must[bool](t)(d.SweptDeleted(ctx, "gone"))
		if forgotten != (i == len(db.DeletedStreamSweeps)-1) {
			t.Fatalf("sweep %d: forgotten %v", i, forgotten)
		}
	}
	if ids := must[[]string](t)(d.DeletedStreams(ctx)); len(ids) != 0 {
		t.Fatalf("still marked after the last sweep: %v", ids)
	}
}
