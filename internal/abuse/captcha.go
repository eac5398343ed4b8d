// Package abuse guards the anonymous write paths (submitLead, reportListing)
// against bots: CAPTCHA verification behind one interface (captcha.go,
// siteverify.go), rate limits shared by every gateway instance through
// PostgreSQL (limits.go), and the client IP address of a request
// (WithClientIP/ClientIP, clientip.go), which the HTTP layer sets.
package abuse

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/partsmarket/gateway/store"
)

// Captcha verifies a CAPTCHA token server-side.
type Captcha interface {
	// Verify returns nil for a good token and a CAPTCHA_FAILED *store.Error
	// for a missing or bad one; other errors are internal.
	Verify(ctx context.Context, token, remoteIP string) error
}

// CaptchaOptions configure the CAPTCHA provider (CAPTCHA_* settings).
type CaptchaOptions struct {
	// Provider is turnstile, hcaptcha, recaptcha or test ("" is test).
	Provider string
	// Secret is the provider's secret key; required but for test.
	Secret string
	// VerifyURL overrides the provider's siteverify URL (tests point it at a
	// local fake server).
	VerifyURL string
	// Hostname, when set, is the hostname the provider must report the
	// challenge was solved on.
	Hostname string
	// Action, when set, is the action the token must carry (Turnstile and
	// reCAPTCHA v3; hCaptcha reports none and is not checked).
	Action string
	// MinScore is the lowest reCAPTCHA v3 score accepted (0 accepts any).
	MinScore float64
	// Timeout bounds one siteverify call (default 5 s); a timeout is
	// CAPTCHA_FAILED.
	Timeout time.Duration
	// Client sends siteverify calls; nil: a client of its own.
	Client *http.Client
	// Log records provider failures (never a token or an address); nil:
	// none.
	Log *slog.Logger
}

// NewCaptcha returns the provider named by CAPTCHA_PROVIDER: test, or a
// siteverify provider (turnstile, hcaptcha, recaptcha), which needs a secret.
// Unknown providers are refused rather than silently accepted.
func NewCaptcha(o CaptchaOptions) (Captcha, error) {
	switch o.Provider {
	case "", "test":
		return TestCaptcha{}, nil
	case "turnstile", "hcaptcha", "recaptcha":
		return newSiteVerify(o)
	default:
		return nil, fmt.Errorf("CAPTCHA_PROVIDER %q is not supported (turnstile, hcaptcha, recaptcha, test)", o.Provider)
	}
}

// TestCaptcha is the development provider: it accepts any non-empty token
// except "fail", as often as it is sent.
type TestCaptcha struct{}

// TestCaptchaFailedMessage is the test provider's CAPTCHA_FAILED message:
// it says what the provider accepts, so that a developer need not read the
// code to get past it.
const TestCaptchaFailedMessage = `captcha verification failed: the development provider (CAPTCHA_PROVIDER=test) ` +
	`accepts any non-empty captchaToken except "fail", such as "ok"`

// Verify returns CAPTCHA_FAILED (TestCaptchaFailedMessage) for an empty
// token or "fail".
func (TestCaptcha) Verify(_ context.Context, token, _ string) error {
	if token == "" || token == "fail" {
		return store.Errorf(store.ECAPTCHA, "%s", TestCaptchaFailedMessage)
	}
	return nil
}
