package abuse

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/partsmarket/gateway/store"
)

// fakeSiteverify is a local siteverify endpoint: the token picks the answer.
type fakeSiteverify struct {
	*httptest.Server
	mu    sync.Mutex
	forms []url.Values
}

func newFakeSiteverify(t *testing.T, provider string) *fakeSiteverify {
	t.Helper()
	f := &fakeSiteverify{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		_ = r.ParseForm()
		f.mu.Lock()
		f.forms = append(f.forms, r.PostForm)
		f.mu.Unlock()
		answer := map[string]any{"success": true, "hostname": "parts.example", "challenge_ts": time.Now().Format(time.RFC3339)}
		if provider != "hcaptcha" {
			answer["action"] = "lead"
		}
		if provider == "recaptcha" {
			answer["score"] = 0.9
		}
		switch tok := r.PostForm.Get("response"); {
		case r.PostForm.Get("secret") != "s3cret":
			answer = map[string]any{"success": false, "error-codes": []string{"invalid-input-secret"}}
		case tok == "bad" || len(tok) > 3 && tok[:3] == "bad":
			answer = map[string]any{"success": false, "error-codes": []string{"invalid-input-response"}}
		case tok == "otherhost":
			answer["hostname"] = "evil.example"
		case tok == "otheraction":
			answer["action"] = "login"
		case tok == "lowscore":
			answer["score"] = 0.1
		case tok == "slow":
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
		case tok == "broken":
			http.Error(w, "oops", http.StatusInternalServerError)
			return
		case tok == "garbage":
			_, _ = w.Write([]byte("<html>"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(answer)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSiteverify) last() url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.forms) == 0 {
		return nil
	}
	return f.forms[len(f.forms)-1]
}

func wantCaptchaFailed(t *testing.T, err error, what string) {
	t.Helper()
	if store.ErrorCode(err) != store.ECAPTCHA {
		t.Errorf("%s: got %v (%s), want CAPTCHA_FAILED", what, err, store.ErrorCode(err))
	}
}

func TestSiteverifyProviders(t *testing.T) {
	for _, provider := range []string{"turnstile", "hcaptcha", "recaptcha"} {
		t.Run(provider, func(t *testing.T) {
			fake := newFakeSiteverify(t, provider)
			c, err := NewCaptcha(CaptchaOptions{Provider: provider, Secret: "s3cret", VerifyURL: fake.URL,
				Hostname: "parts.example", Action: "lead", MinScore: 0.5, Timeout: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if err := c.Verify(ctx, "good-1", "203.0.113.7"); err != nil {
				t.Fatalf("good token: %v", err)
			}
			form := fake.last()
			if form.Get("secret") != "s3cret" || form.Get("response") != "good-1" || form.Get("remoteip") != "203.0.113.7" {
				t.Errorf("siteverify form %v", form)
			}
			wantCaptchaFailed(t, c.Verify(ctx, "good-1", "203.0.113.7"), "reused token")
			wantCaptchaFailed(t, c.Verify(ctx, "bad-1", ""), "refused token")
			wantCaptchaFailed(t, c.Verify(ctx, "", ""), "empty token")
			wantCaptchaFailed(t, c.Verify(ctx, "otherhost", ""), "wrong hostname")
			wantCaptchaFailed(t, c.Verify(ctx, "broken", ""), "provider 500")
			wantCaptchaFailed(t, c.Verify(ctx, "garbage", ""), "provider garbage")
			if provider != "hcaptcha" {
				wantCaptchaFailed(t, c.Verify(ctx, "otheraction", ""), "wrong action")
			}
			if provider == "recaptcha" {
				wantCaptchaFailed(t, c.Verify(ctx, "lowscore", ""), "low score")
			} else if err := c.Verify(ctx, "lowscore", ""); err != nil {
				t.Errorf("%s has no score to check: %v", provider, err)
			}
			start := time.Now()
			wantCaptchaFailed(t, c.Verify(ctx, "slow", ""), "timeout")
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("a slow provider took %v, want about the 300ms timeout", d)
			}
		})
	}
}

func TestSiteverifyWrongSecretAndNetworkError(t *testing.T) {
	fake := newFakeSiteverify(t, "turnstile")
	c, err := NewCaptcha(CaptchaOptions{Provider: "turnstile", Secret: "wrong", VerifyURL: fake.URL, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	wantCaptchaFailed(t, c.Verify(context.Background(), "good", ""), "wrong secret")

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	c, err = NewCaptcha(CaptchaOptions{Provider: "hcaptcha", Secret: "s3cret", VerifyURL: closed.URL, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	wantCaptchaFailed(t, c.Verify(context.Background(), "good", ""), "unreachable provider")
}

func TestNewCaptchaChecks(t *testing.T) {
	if _, err := NewCaptcha(CaptchaOptions{Provider: "recaptcha"}); err == nil {
		t.Error("a provider without a secret was accepted")
	}
	if _, err := NewCaptcha(CaptchaOptions{Provider: "nope", Secret: "x"}); err == nil {
		t.Error("an unknown provider was accepted")
	}
	if _, err := NewCaptcha(CaptchaOptions{Provider: "turnstile", Secret: "x", VerifyURL: "ftp://x"}); err == nil {
		t.Error("a non-http verify URL was accepted")
	}
	c, err := NewCaptcha(CaptchaOptions{Provider: "turnstile", Secret: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if u := c.(*siteVerify).url; u != TurnstileVerifyURL {
		t.Errorf("default URL %s", u)
	}
}

func TestSeenTokens(t *testing.T) {
	s := newSeenTokens(3, time.Minute)
	now := time.Now()
	h := func(b byte) [32]byte { return [32]byte{b} }
	if !s.add(h(1), now) || s.add(h(1), now.Add(time.Second)) {
		t.Fatal("a token was not refused the second time")
	}
	if !s.add(h(1), now.Add(2*time.Minute)) {
		t.Error("a token past its lifetime is still refused")
	}
	for b := byte(2); b < 50; b++ {
		s.add(h(b), now.Add(3*time.Minute))
	}
	if len(s.at) > 3 {
		t.Errorf("the set holds %d hashes, want at most 3", len(s.at))
	}
	if s.add(h(49), now.Add(3*time.Minute)) {
		t.Error("the newest token was forgotten")
	}
}

func TestTestCaptcha(t *testing.T) {
	c, _ := NewCaptcha(CaptchaOptions{Provider: "test"})
	for i := 0; i < 2; i++ {
		if err := c.Verify(context.Background(), "ok", ""); err != nil {
			t.Errorf("test provider refused a reused token: %v", err)
		}
	}
	for _, token := range []string{"fail", ""} {
		err := c.Verify(context.Background(), token, "")
		wantCaptchaFailed(t, err, token)
		if se, ok := err.(*store.Error); !ok || se.Message != TestCaptchaFailedMessage {
			t.Errorf("token %q: got %v, want the message that says what the test provider accepts", token, err)
		}
	}
}
