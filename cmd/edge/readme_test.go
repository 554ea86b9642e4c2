package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestREADMEConfigTable keeps the README's configuration reference equal
// to the real flag set.
func TestREADMEConfigTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	want.WriteString("| flag | variable | default | meaning |\n|---|---|---|---|\n")
	for _, s := range settings {
		def := s.def
		if def == "" {
			def = "(derived)"
		}
		fmt.Fprintf(&want, "| `--%s` | `%s` | `%s` | %s |\n", s.flag, s.env, def, s.usage)
	}
	if !strings.Contains(string(readme), want.String()) {
		t.Fatalf("README.md's configuration table is out of date; it should read:\n\n%s", want.String())
	}
}
