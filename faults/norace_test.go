//go:build !race

package faults

// raceBuild: see race_test.go.
const raceBuild = false
