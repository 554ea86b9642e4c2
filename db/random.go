package db

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomString returns n characters of [0-9A-Za-z] from crypto/rand: URL-
// safe and accepted by the proxy's path rules.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics rather than return short)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)] // bias of 256%62 is harmless for ids
	}
	return string(b)
}

// digest is how secrets (session cookies, API tokens) are stored: a stolen
// database file does not hand out working credentials.
func digest(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
