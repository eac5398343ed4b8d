package respcache

import (
	"bytes"
	"testing"
	"time"
)

// TestSizeBound: the cache holds at most MaxBytes of responses, dropping the
// least recently used, and never keeps one over a tenth of the size.
func TestSizeBound(t *testing.T) {
	c := New(Options{TTL: time.Minute, MaxBytes: 1000})
	for i := range 30 {
		c.put(key{byte(i)}, &entry{expires: time.Now().Add(time.Minute), data: bytes.Repeat([]byte("x"), 100)})
		if got := c.bytes.Load(); got > 1000 {
			t.Fatalf("after %d puts the cache holds %d bytes, over its 1000", i+1, got)
		}
	}
	if c.entries.Len() != 10 || c.bytes.Load() != 1000 {
		t.Errorf("%d entries of %d bytes, want the 10 newest (1000 bytes)", c.entries.Len(), c.bytes.Load())
	}
	if _, ok := c.get(key{0}); ok {
		t.Error("the oldest response survived")
	}
	if _, ok := c.get(key{29}); !ok {
		t.Error("the newest response is gone")
	}
	c.put(key{29}, &entry{expires: time.Now().Add(time.Minute), data: bytes.Repeat([]byte("y"), 50)})
	if got := c.bytes.Load(); got != 950 {
		t.Errorf("after replacing a response the cache counts %d bytes, want 950", got)
	}
	c.put(key{99}, &entry{expires: time.Now().Add(time.Minute), data: bytes.Repeat([]byte("z"), 101)})
	if _, ok := c.get(key{99}); ok {
		t.Error("a response over a tenth of the size was kept")
	}
}

// TestGenerationAndTTL: a response is not used after Invalidate, nor once
// it expired.
func TestGenerationAndTTL(t *testing.T) {
	c := New(Options{TTL: time.Minute, MaxBytes: 1000})
	c.put(key{1}, &entry{expires: time.Now().Add(time.Minute), data: []byte(`{}`)})
	c.put(key{2}, &entry{expires: time.Now().Add(-time.Second), data: []byte(`{}`)})
	if _, ok := c.get(key{1}); !ok {
		t.Fatal("a fresh response is not used")
	}
	if _, ok := c.get(key{2}); ok {
		t.Error("a response older than the TTL is used")
	}
	c.Invalidate()
	if _, ok := c.get(key{1}); ok {
		t.Error("a response of an older generation is used")
	}
	if New(Options{TTL: 0, MaxBytes: 1000}) != nil {
		t.Error("a TTL of 0 must turn the cache off")
	}
}
