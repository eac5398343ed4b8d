// Package abuse guards the anonymous write paths (submitLead, reportListing)
// against bots: CAPTCHA verification behind one interface.
package abuse

import (
	"context"
	"fmt"

	"github.com/partsmarket/gateway/store"
)

// Captcha verifies a CAPTCHA token server-side.
type Captcha interface {
	// Verify returns nil for a good token and a CAPTCHA_FAILED *store.Error
	// for a missing or bad one; other errors are internal.
	Verify(ctx context.Context, token, remoteIP string) error
}

// NewCaptcha returns the provider named by CAPTCHA_PROVIDER. Only "test" is
// built so far; the others are refused rather than silently accepted.
func NewCaptcha(provider, secret string) (Captcha, error) {
	switch provider {
	case "", "test":
		return TestCaptcha{}, nil
	default:
		return nil, fmt.Errorf("CAPTCHA_PROVIDER %q is not supported yet", provider)
	}
}

// TestCaptcha is the development provider: it accepts any non-empty token
// except "fail", as often as it is sent.
type TestCaptcha struct{}

// Verify returns CAPTCHA_FAILED for an empty token or "fail".
func (TestCaptcha) Verify(_ context.Context, token, _ string) error {
	if token == "" || token == "fail" {
		return store.Errorf(store.ECAPTCHA, "captcha verification failed")
	}
	return nil
}
