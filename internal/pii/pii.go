// Package pii protects the personal data of buyers and reporters at rest:
// AES-256-GCM encryption under a keyring of named keys (the first encrypts,
// every key decrypts, the key id is stored beside each sealed value) and a
// blind index, an HMAC-SHA-256 of a normalised email, so rows can be found by
// email without the email being stored.
//
// Keys come from ENCRYPTION_KEYS ("id:base64key,…", 32-byte keys) and
// BLIND_INDEX_KEY (base64, 32 bytes). DevEncryptionKeys and DevBlindIndexKey
// are the development defaults; production must refuse them.
package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// DevEncryptionKeys is the development default of ENCRYPTION_KEYS: one key,
// id "dev1". It is public, so production must refuse it.
const DevEncryptionKeys = "dev1:Z1qUjtEbaBYSnlrWqsO17xAQ1+j1VZRERvujnwV7+0o="

// DevBlindIndexKey is the development default of BLIND_INDEX_KEY. It is
// public, so production must refuse it.
const DevBlindIndexKey = "JcdTJFIFCIZqOXX8QW/OfpBikY0tCSSuOHQXbQPuyKE="

// KeySize is the size in bytes of an encryption key (AES-256) and of the
// blind index key.
const KeySize = 32

// nonceSize is the size of a GCM nonce, stored in front of each sealed value.
const nonceSize = 12

// ErrUnknownKey is returned by Open for a key id that is not in the keyring.
var ErrUnknownKey = errors.New("pii: unknown encryption key id")

// ErrDecrypt is returned by Open when a sealed value does not authenticate
// under its key: a wrong key, or a value altered or truncated.
var ErrDecrypt = errors.New("pii: sealed value does not decrypt with its key")

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// Keyring holds the encryption keys and the blind index key. It is safe for
// concurrent use.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
	bidx    []byte
}

var devKeyring = mustParse(DevEncryptionKeys, DevBlindIndexKey)

// Dev returns the development keyring (DevEncryptionKeys, DevBlindIndexKey).
func Dev() *Keyring { return devKeyring }

func mustParse(keys, bidx string) *Keyring {
	k, err := Parse(keys, bidx)
	if err != nil {
		panic(err)
	}
	return k
}

// Parse builds a keyring from the values of ENCRYPTION_KEYS
// ("id:base64key,…": distinct ids of letters, digits, '.', '_' or '-'; keys
// of 32 bytes in standard or URL base64, padded or not; the first encrypts)
// and BLIND_INDEX_KEY (32 bytes in base64). Errors name the variable and
// never quote a key.
func Parse(encryptionKeys, blindIndexKey string) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for i, entry := range strings.Split(encryptionKeys, ",") {
		entry = strings.TrimSpace(entry)
		id, b64, ok := strings.Cut(entry, ":")
		if !ok || !keyIDPattern.MatchString(id) {
			return nil, fmt.Errorf("ENCRYPTION_KEYS: entry %d must be id:base64key with an id of letters, digits, '.', '_' or '-'", i+1)
		}
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("ENCRYPTION_KEYS: key id %q appears twice", id)
		}
		key, err := decodeKey(b64)
		if err != nil {
			return nil, fmt.Errorf("ENCRYPTION_KEYS: key %q: %w", id, err)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("ENCRYPTION_KEYS: key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("ENCRYPTION_KEYS: key %q: %w", id, err)
		}
		k.aeads[id] = aead
		if i == 0 {
			k.current = id
		}
	}
	bidx, err := decodeKey(blindIndexKey)
	if err != nil {
		return nil, fmt.Errorf("BLIND_INDEX_KEY: %w", err)
	}
	k.bidx = bidx
	return k, nil
}

// decodeKey decodes a base64 key of KeySize bytes.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("must be %d bytes, got %d", KeySize, len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("must be base64")
}

// CurrentKeyID returns the id of the key that encrypts: the first one.
func (k *Keyring) CurrentKeyID() string { return k.current }

// Seal encrypts plaintext under the current key with a random nonce. aad is
// authenticated but not stored (e.g. which column the value belongs to), and
// Open must be given the same. It returns the nonce followed by the
// ciphertext and tag, and the id of the key used.
func (k *Keyring) Seal(plaintext, aad []byte) (sealed []byte, keyID string, err error) {
	nonce := make([]byte, nonceSize, nonceSize+len(plaintext)+16)
	if _, err := rand.Read(nonce); err != nil {
		return nil, "", fmt.Errorf("pii: nonce: %w", err)
	}
	return k.aeads[k.current].Seal(nonce, nonce, plaintext, aad), k.current, nil
}

// Open decrypts a value Seal returned under key keyID with the same aad.
// It returns ErrUnknownKey when keyID is not in the keyring and ErrDecrypt
// when the value does not authenticate: never garbage.
func (k *Keyring) Open(keyID string, sealed, aad []byte) ([]byte, error) {
	aead, ok := k.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, keyID)
	}
	if len(sealed) < nonceSize+aead.Overhead() {
		return nil, fmt.Errorf("%w %q: too short", ErrDecrypt, keyID)
	}
	out, err := aead.Open(nil, sealed[:nonceSize], sealed[nonceSize:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w %q", ErrDecrypt, keyID)
	}
	return out, nil
}

// NormalizeEmail returns email as the blind index sees it: trimmed and
// lower-cased.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// BlindIndex returns the HMAC-SHA-256, under the blind index key, of the
// normalised email (prefixed "email:" to set it apart from any other use of
// the key): equal for addresses that differ only in case or
// surrounding space, and useless without the key.
func (k *Keyring) BlindIndex(email string) []byte {
	m := hmac.New(sha256.New, k.bidx)
	m.Write([]byte("email:"))
	m.Write([]byte(NormalizeEmail(email)))
	return m.Sum(nil)
}

// LeadDedupeKey returns the HMAC-SHA-256, under the blind index key, of a
// lead's normalised email, seller id, listing id ("" for none) and exact
// message. The input is prefixed "lead:" (apart from BlindIndex's "email:")
// and each field is preceded by its length, so no two different leads share
// an input. Equal keys mean the same lead sent again; without the key the
// value tells nothing of the email or the message.
func (k *Keyring) LeadDedupeKey(email, sellerID, listingID, message string) []byte {
	m := hmac.New(sha256.New, k.bidx)
	m.Write([]byte("lead:"))
	for _, f := range []string{NormalizeEmail(email), sellerID, listingID, message} {
		m.Write(binary.BigEndian.AppendUint64(nil, uint64(len(f))))
		m.Write([]byte(f))
	}
	return m.Sum(nil)
}
