package respcache

import (
	"testing"
	"time"
)

// TestOff: a TTL or a size of 0 turns the cache off.
func TestOff(t *testing.T) {
	if New(Options{TTL: 0, MaxBytes: 1000}) != nil || New(Options{TTL: time.Minute}) != nil {
		t.Error("a TTL or size of 0 must turn the cache off")
	}
	var c *Cache
	if c.Bytes() != 0 {
		t.Error("a nil cache counts bytes")
	}
}
