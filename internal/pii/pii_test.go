package pii

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func newKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestSealOpen(t *testing.T) {
	k := Dev()
	plain := []byte(`{"email":"jane@example.com"}`)
	a, id, err := k.Seal(plain, []byte("leads.pii"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := id, "dev1"; got != want {
		t.Errorf("key id: got %q, want %q", got, want)
	}
	if bytes.Contains(a, []byte("jane")) {
		t.Error("sealed value contains the plaintext")
	}
	b, _, _ := k.Seal(plain, []byte("leads.pii"))
	if bytes.Equal(a, b) {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	got, err := k.Open(id, a, []byte("leads.pii"))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open: got %q, %v; want %q", got, err, plain)
	}

	t.Run("other aad", func(t *testing.T) {
		if _, err := k.Open(id, a, []byte("listing_reports.reporter_pii")); !errors.Is(err, ErrDecrypt) {
			t.Errorf("got %v, want ErrDecrypt", err)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		c := bytes.Clone(a)
		c[len(c)-1] ^= 1
		if _, err := k.Open(id, c, []byte("leads.pii")); !errors.Is(err, ErrDecrypt) {
			t.Errorf("got %v, want ErrDecrypt", err)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		if _, err := k.Open(id, a[:10], []byte("leads.pii")); !errors.Is(err, ErrDecrypt) {
			t.Errorf("got %v, want ErrDecrypt", err)
		}
	})
	t.Run("unknown key id", func(t *testing.T) {
		if _, err := k.Open("nope", a, []byte("leads.pii")); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("got %v, want ErrUnknownKey", err)
		}
	})
	t.Run("wrong key under the same id", func(t *testing.T) {
		other, err := Parse("dev1:"+newKey(t), DevBlindIndexKey)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Open(id, a, []byte("leads.pii")); !errors.Is(err, ErrDecrypt) {
			t.Errorf("got %v, want ErrDecrypt", err)
		}
	})
}

func TestRotationKeyring(t *testing.T) {
	k, err := Parse("k2:"+newKey(t)+", "+DevEncryptionKeys, DevBlindIndexKey)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := k.CurrentKeyID(), "k2"; got != want {
		t.Errorf("current key: got %q, want %q", got, want)
	}
	old, _, _ := Dev().Seal([]byte("x"), nil)
	if got, err := k.Open("dev1", old, nil); err != nil || string(got) != "x" {
		t.Errorf("old key does not decrypt: %q, %v", got, err)
	}
	if !bytes.Equal(k.BlindIndex("a@b.c"), Dev().BlindIndex("a@b.c")) {
		t.Error("the blind index changed with the encryption keys")
	}
}

func TestBlindIndex(t *testing.T) {
	k := Dev()
	a := k.BlindIndex("Jane.Doe@Example.com")
	if got := k.BlindIndex("  jane.doe@example.COM "); !bytes.Equal(got, a) {
		t.Error("case and space change the blind index")
	}
	if bytes.Equal(k.BlindIndex("jane.doe@example.org"), a) {
		t.Error("two addresses share a blind index")
	}
	if len(a) != 32 {
		t.Errorf("blind index of %d bytes, want 32", len(a))
	}
	other, _ := Parse(DevEncryptionKeys, newKey(t))
	if bytes.Equal(other.BlindIndex("jane.doe@example.com"), a) {
		t.Error("the blind index does not depend on its key")
	}
}

func TestParseErrors(t *testing.T) {
	good := newKey(t)
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	tests := []struct {
		name, keys, bidx, want string
	}{
		{"empty keys", "", good, "ENCRYPTION_KEYS"},
		{"no id", good, good, "ENCRYPTION_KEYS"},
		{"bad id", "a b:" + good, good, "ENCRYPTION_KEYS"},
		{"short key", "k1:" + short, good, "must be 32 bytes"},
		{"not base64", "k1:!!!", good, "must be base64"},
		{"duplicate id", "k1:" + good + ",k1:" + newKey(t), good, "twice"},
		{"empty trailing entry", "k1:" + good + ",", good, "entry 2"},
		{"empty blind index key", "k1:" + good, "", "BLIND_INDEX_KEY"},
		{"short blind index key", "k1:" + good, short, "BLIND_INDEX_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.keys, tt.bidx)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error with %q", err, tt.want)
			}
			if strings.Contains(err.Error(), good) {
				t.Error("the error quotes a key")
			}
		})
	}
	if _, err := Parse("k1:"+base64.RawURLEncoding.EncodeToString(make([]byte, 32)), good); err != nil {
		t.Errorf("unpadded URL base64: %v", err)
	}
}

func TestLeadDedupeKey(t *testing.T) {
	k := Dev()
	const seller, listing = "5f1c1b2e-0000-4000-8000-000000000001", "5f1c1b2e-0000-4000-8000-000000000002"
	a := k.LeadDedupeKey("Jane.Doe@Example.com", seller, listing, "Still available?")
	if got := k.LeadDedupeKey("  jane.doe@example.COM ", seller, listing, "Still available?"); !bytes.Equal(got, a) {
		t.Error("case and space of the email change the key")
	}
	if len(a) != 32 {
		t.Errorf("key of %d bytes, want 32", len(a))
	}
	if bytes.Contains(a, []byte("jane")) {
		t.Error("the key holds the email")
	}
	for _, tt := range []struct {
		name                            string
		email, seller, listing, message string
	}{
		{"another email", "john@example.com", seller, listing, "Still available?"},
		{"another seller", "jane.doe@example.com", listing, listing, "Still available?"},
		{"no listing", "jane.doe@example.com", seller, "", "Still available?"},
		{"another message", "jane.doe@example.com", seller, listing, "Still available? "},
		{"fields shifted across a boundary", "jane.doe@example.com", seller, listing + "S", "till available?"},
		{"the blind index's input", "email:jane.doe@example.com", "", "", ""},
	} {
		if bytes.Equal(k.LeadDedupeKey(tt.email, tt.seller, tt.listing, tt.message), a) {
			t.Errorf("%s: same key", tt.name)
		}
	}
	if bytes.Equal(k.LeadDedupeKey("", "", "", ""), k.BlindIndex("")) {
		t.Error("an empty lead's key is the empty email's blind index")
	}
	other, _ := Parse(DevEncryptionKeys, newKey(t))
	if bytes.Equal(other.LeadDedupeKey("jane.doe@example.com", seller, listing, "Still available?"), a) {
		t.Error("the key does not depend on the blind index key")
	}
}
