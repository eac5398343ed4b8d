// Package tagcache is the gateway's one cache design, shared by the
// response cache (internal/respcache) and the store's search cache:
//
//   - entries live under compact keys (Key, a hash of the normalised
//     input), never under the input itself;
//   - each entry carries tags: the listings and sellers it shows (Listing,
//     Seller) and, for lists, the lists whose membership it shows
//     (SellerLists, AllLists);
//   - a write names the tags it changes, and the Invalidator purges the
//     entries that carry them, in this process before the write returns
//     and in the other instances when its NOTIFY arrives (Message,
//     Receive); an unrelated entry stays;
//   - a list tag is purged at most once per ListEvery: a write that can
//     only add a listing to a list (or move one within it) shows in the
//     lists within that time, not at once, so that a stream of writes does
//     not empty every cached list; a write that takes a listing or a
//     seller out of public view purges its entity tag at once, and every
//     entry showing it goes;
//   - a cache is bounded in bytes, counting keys, values and its tag index,
//     and expires entries after a TTL less up to half of it at random.
package tagcache

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Key identifies a cached entry: a hash of the normalised input it answers.
type Key [sha256.Size]byte

// NewKey hashes parts into a Key. Each part is preceded by its length, so
// no two different sequences of parts hash the same bytes.
func NewKey(parts ...[]byte) Key {
	h := sha256.New()
	for _, part := range parts {
		n := len(part)
		_, _ = h.Write([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
		_, _ = h.Write(part)
	}
	var k Key
	h.Sum(k[:0])
	return k
}

// Tag names what a write can change: one entity, or the membership of a
// kind of list. Its first byte is its kind; an id follows, as 16 raw bytes
// when it is a UUID.
type Tag string

// Kinds of tags.
const (
	kindListing     = 'l'
	kindSeller      = 's'
	kindSellerLists = 'm'
	kindAllLists    = 'a'
	kindRemoval     = 'r'
)

// AllLists tags every list of listings or sellers that is not one seller's
// listings: its membership changes with any listing or seller write.
const AllLists Tag = "a"

// Removal marks a write that takes a listing or a seller out of public
// view (a listing REMOVED, PAUSED, SOLD or DRAFT, a seller suspended):
// every entry showing its entities is dropped. Without it a write's
// entity tags drop the entries without lists (a listing's page) and turn
// those with AllLists stale (searches and pages of listings, which show
// the change once made again, within the lists' staleness).
const Removal Tag = "r"

// Listing tags the entries that show listing id.
func Listing(id string) Tag { return tag(kindListing, id) }

// Seller tags the entries that show seller id, or any listing of it.
func Seller(id string) Tag { return tag(kindSeller, id) }

// SellerLists tags the lists of seller id's listings: their membership
// changes with a write to one of its listings.
func SellerLists(id string) Tag { return tag(kindSellerLists, id) }

// tag returns kind followed by id, compacted to 16 bytes when it is a UUID.
func tag(kind byte, id string) Tag {
	var raw [16]byte
	if len(id) == 36 {
		if _, err := hex.Decode(raw[:], []byte(strings.ReplaceAll(id, "-", ""))); err == nil {
			return Tag(string(kind) + string(raw[:]))
		}
	}
	return Tag(string(kind) + id)
}

// list reports whether t tags a list's membership, which is purged at most
// once per ListEvery.
func (t Tag) list() bool {
	return len(t) > 0 && (t[0] == kindAllLists || t[0] == kindSellerLists)
}

// text returns t as NOTIFY text: its kind, then its id in hex.
func (t Tag) text() string {
	if len(t) == 0 {
		return ""
	}
	return string(t[0]) + hex.EncodeToString([]byte(t[1:]))
}

// parseTag reverses text; false for text no Tag gives.
func parseTag(s string) (Tag, bool) {
	if s == "" {
		return "", false
	}
	id, err := hex.DecodeString(s[1:])
	if err != nil {
		return "", false
	}
	switch s[0] {
	case kindAllLists:
		return AllLists, len(id) == 0
	case kindRemoval:
		return Removal, len(id) == 0
	case kindListing, kindSeller, kindSellerLists:
		return Tag(s[:1] + string(id)), len(id) > 0
	}
	return "", false
}
