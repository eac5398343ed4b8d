package main

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// suiteLog receives every line any gateway of this package's tests logs.
var suiteLog syncBuffer

// personalData holds the buyers' and reporters' personal values the tests
// sent, by notePersonalData.
var personalData = struct {
	sync.Mutex
	values map[string]bool
}{values: map[string]bool{
	// The fixture's lead and report (harness_test.go), stored directly.
	"Jane Buyer": true, "jane.buyer@example.com": true, "+1 555 010 1234": true,
	"Acme Mining": true, "Is this still available?": true, "reporter@example.org": true,
}}

// personalFields are the input fields that carry personal data.
var personalFields = map[string]bool{"buyerName": true, "email": true, "phone": true, "company": true,
	"message": true, "reporterEmail": true}

// notePersonalData remembers the personal values in a request's variables
// (at any depth), for TestMain's scan.
func notePersonalData(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && personalFields[k] && len(s) >= 6 {
				personalData.Lock()
				personalData.values[s] = true
				personalData.Unlock()
			}
			notePersonalData(x)
		}
	case []any:
		for _, x := range v {
			notePersonalData(x)
		}
	}
}

// emailPattern finds anything that looks like an email address.
var emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+`)

// TestMain runs the package's tests, then checks that the logs of all the
// traffic they sent hold no buyer's or reporter's personal data: no value
// the tests sent in a personal field, and no email address at all.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && !testing.Short() {
		if leaks := personalDataInLogs(suiteLog.String()); len(leaks) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: personal data in the logs of the test suite's traffic: %q\n", leaks)
			code = 1
		}
	}
	os.Exit(code)
}

// personalDataInLogs returns the personal values found in logs.
func personalDataInLogs(logs string) []string {
	personalData.Lock()
	defer personalData.Unlock()
	var leaks []string
	for v := range personalData.values {
		if strings.Contains(logs, v) {
			leaks = append(leaks, v)
		}
	}
	leaks = append(leaks, emailPattern.FindAllString(logs, 5)...)
	sort.Strings(leaks)
	return leaks
}

// TestLogScanFindsPersonalData checks the scan itself: it finds a sent
// value and a stray email address, and passes clean logs.
func TestLogScanFindsPersonalData(t *testing.T) {
	notePersonalData(map[string]any{"in": map[string]any{"buyerName": "Scanner Testperson"}})
	if got := personalDataInLogs(`{"msg":"request","name":"Scanner Testperson"}`); len(got) != 1 {
		t.Errorf("a sent name in the logs: found %q", got)
	}
	if got := personalDataInLogs(`{"msg":"mail failed","to":"someone@example.net"}`); len(got) != 1 {
		t.Errorf("an email in the logs: found %q", got)
	}
	if got := personalDataInLogs(`{"msg":"request","status":200}`); len(got) != 0 {
		t.Errorf("clean logs: found %q", got)
	}
}
