// Package testclock is a settable clock for tests of rules that depend on
// time (refill rates, refresh intervals), so that they move time instead of
// waiting for it.
package testclock

import (
	"sync"
	"time"
)

// Clock is a time that only Advance changes; safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a Clock reading start.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Advance moves the clock d forward.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }
