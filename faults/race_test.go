//go:build race

package faults

// raceBuild builds the gateway with the race detector when the suite runs
// with it (make test), so the binary under fault is checked too and its
// packages come from the same build cache.
const raceBuild = true
