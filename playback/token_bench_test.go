package playback

import (
	"testing"
	"time"
)

func benchRules(b *testing.B, tokens int) (*Rules, []string) {
	k, _ := GenerateKey()
	priv, _ := ParsePrivateKey(k.PrivatePEM)
	doc, _ := Document{Keys: map[string]string{k.ID: k.PublicPEM}}.Marshal()
	rules, _ := Parse(doc)
	list := make([]string, tokens)
	for i := range list {
		list[i], _ = Mint(priv, k.ID, claims("abc", t0.Add(time.Hour+time.Duration(i)*time.Second)))
	}
	return rules, list
}

// BenchmarkVerify is a viewer's player asking again with its token, as it
// does for every segment: remembered, not checked again.
func BenchmarkVerify(b *testing.B) {
	rules, tokens := benchRules(b, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rules.Verify(tokens[0], t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyFirst is a token seen for the first time: one ES256 check.
func BenchmarkVerifyFirst(b *testing.B) {
	rules, tokens := benchRules(b, 2000)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rules.Verify(tokens[i%len(tokens)], t0); err != nil {
			b.Fatal(err)
		}
		i++
		if i%len(tokens) == 0 {
			rules.verified.Purge()
		}
	}
}
