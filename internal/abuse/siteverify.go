package abuse

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/partsmarket/gateway/store"
)

// Siteverify URLs of the providers.
const (
	TurnstileVerifyURL = "https://challenges.cloudflare.com/turnstile/v0/siteverify"
	HCaptchaVerifyURL  = "https://api.hcaptcha.com/siteverify"
	RecaptchaVerifyURL = "https://www.google.com/recaptcha/api/siteverify"
)

const (
	// maxTokenLen bounds a token sent to a provider (Turnstile's are at
	// most 2048 characters).
	maxTokenLen = 4096
	// tokenLifetime is how long a provider accepts a token (Turnstile 300 s,
	// reCAPTCHA and hCaptcha about 120 s); a token seen within it is refused
	// locally without asking the provider.
	tokenLifetime = 5 * time.Minute
	// seenCapacity bounds the set of recently seen token hashes.
	seenCapacity = 100_000
	// maxVerifyResponse bounds a siteverify response body.
	maxVerifyResponse = 64 << 10
)

// siteVerify is a provider that checks tokens with a siteverify endpoint:
// Turnstile, hCaptcha and reCAPTCHA share the protocol (a form POST of
// secret, response and remoteip answered by JSON).
type siteVerify struct {
	o    CaptchaOptions
	url  string
	seen *seenTokens
}

func newSiteVerify(o CaptchaOptions) (*siteVerify, error) {
	if o.Secret == "" {
		return nil, fmt.Errorf("CAPTCHA_SECRET is required with CAPTCHA_PROVIDER %s", o.Provider)
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
	u := o.VerifyURL
	if u == "" {
		u = map[string]string{"turnstile": TurnstileVerifyURL, "hcaptcha": HCaptchaVerifyURL, "recaptcha": RecaptchaVerifyURL}[o.Provider]
	}
	if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return nil, errors.New("CAPTCHA_VERIFY_URL must be an http or https URL")
	}
	return &siteVerify{o: o, url: u, seen: newSeenTokens(seenCapacity, tokenLifetime)}, nil
}

// verifyResponse is the union of the providers' siteverify answers.
type verifyResponse struct {
	Success    bool     `json:"success"`
	Hostname   string   `json:"hostname"`
	Action     string   `json:"action"`
	Score      *float64 `json:"score"`
	ErrorCodes []string `json:"error-codes"`
}

// Verify checks token with the provider. Everything that is not a clear
// success (a bad, reused or missing token, a wrong hostname, action or
// score, a provider that is down or slow) is CAPTCHA_FAILED: the caller may
// retry with a fresh token; nothing here is an internal error.
func (s *siteVerify) Verify(ctx context.Context, token, remoteIP string) error {
	failed := store.Errorf(store.ECAPTCHA, "captcha verification failed")
	if token == "" || len(token) > maxTokenLen {
		return failed
	}
	if !s.seen.add(sha256.Sum256([]byte(token)), time.Now()) {
		s.logf(ctx, "captcha token reused", "")
		return failed
	}
	form := url.Values{"secret": {s.o.Secret}, "response": {token}}
	if remoteIP != "" {
		form.Set("remoteip", remoteIP)
	}
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, strings.NewReader(form.Encode()))
	if err != nil {
		return failed
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := s.o.Client.Do(req)
	if err != nil {
		s.logf(ctx, "captcha provider unreachable", errorKind(err))
		return failed
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.logf(ctx, "captcha provider error", fmt.Sprintf("http %d", resp.StatusCode))
		return failed
	}
	var vr verifyResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxVerifyResponse)).Decode(&vr); err != nil {
		s.logf(ctx, "captcha provider answer unreadable", errorKind(err))
		return failed
	}
	if reason := s.refusal(vr); reason != "" {
		s.logf(ctx, "captcha refused", reason)
		return failed
	}
	return nil
}

// refusal says why an answer is not a success ("" for a success).
func (s *siteVerify) refusal(vr verifyResponse) string {
	switch {
	case !vr.Success:
		return "provider: " + strings.Join(vr.ErrorCodes, ",")
	case s.o.Hostname != "" && !strings.EqualFold(vr.Hostname, s.o.Hostname):
		return "hostname mismatch"
	case s.o.Action != "" && s.o.Provider != "hcaptcha" && vr.Action != s.o.Action:
		return "action mismatch"
	case s.o.Provider == "recaptcha" && s.o.MinScore > 0 && (vr.Score == nil || *vr.Score < s.o.MinScore):
		return "score below minimum"
	}
	return ""
}

// logf logs a CAPTCHA failure's reason; never the token or the address.
func (s *siteVerify) logf(ctx context.Context, msg, reason string) {
	if s.o.Log != nil {
		s.o.Log.InfoContext(ctx, msg, "provider", s.o.Provider, "reason", reason)
	}
}

// errorKind names a network error without its text (which holds the URL).
func errorKind(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return fmt.Sprintf("%T", err)
}

// seenTokens is a bounded set of recently seen token hashes, each kept for
// ttl; when full, the oldest entries go first.
type seenTokens struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	at    map[[32]byte]time.Time
	order []seenEntry // insertion order, oldest first
}

type seenEntry struct {
	h  [32]byte
	at time.Time
}

func newSeenTokens(max int, ttl time.Duration) *seenTokens {
	return &seenTokens{ttl: ttl, max: max, at: make(map[[32]byte]time.Time)}
}

// add records h at now and reports whether it was new (not seen within
// ttl).
func (s *seenTokens) add(h [32]byte, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.order) > 0 && (now.Sub(s.order[0].at) >= s.ttl || len(s.at) >= s.max) {
		e := s.order[0]
		if t, ok := s.at[e.h]; ok && t.Equal(e.at) {
			delete(s.at, e.h)
		}
		s.order = s.order[1:]
	}
	if t, ok := s.at[h]; ok && now.Sub(t) < s.ttl {
		return false
	}
	s.at[h] = now
	s.order = append(s.order, seenEntry{h: h, at: now})
	if len(s.order) > 0 && cap(s.order) > 4*len(s.order)+1024 {
		s.order = append([]seenEntry(nil), s.order...) // let the dropped front go
	}
	return true
}
