package db_test

import (
	"context"
	"testing"

	"github.com/edgehls/edge/db"
)

func TestSearchFoldsCaseInEveryScript(t *testing.T) {
	ctx := context.Background()
	d := open(t)
	for _, title := range []string{"Café au lait", "Grüße aus der Straße", "ΣΟΦΙΑ lecture", "100% _real_"} {
		must[*db.Stream](t)(d.CreateStream(ctx, db.NewStream{Title: title}))
	}
	for q, want := range map[string]string{
		"CAFÉ": "Café au lait", "café": "Café au lait", "STRASSE": "Grüße aus der Straße", "grüsse": "Grüße aus der Straße",
		"σοφια": "ΣΟΦΙΑ lecture", "0% _": "100% _real_",
	} {
		list, total, err := d.ListStreams(ctx, db.StreamFilter{Query: q})
		if err != nil || total != 1 || len(list) != 1 || list[0].Title != want {
			t.Errorf("%q: %d results %v %v, want %q", q, total, list, err, want)
		}
	}
}
