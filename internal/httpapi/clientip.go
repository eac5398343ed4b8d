package httpapi

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/partsmarket/gateway/internal/abuse"
)

// ClientIP returns the client IP address of the request ctx belongs to (see
// withClientIP); "" outside a request. Packages other than httpapi should
// read it with abuse.ClientIP, which this wraps, so they need not import the
// HTTP layer.
func ClientIP(ctx context.Context) string { return abuse.ClientIP(ctx) }

// ParseTrustedProxies parses TRUSTED_PROXIES: comma-separated CIDRs (a bare
// address counts as a single-address prefix).
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("TRUSTED_PROXIES: %q is not a CIDR or an address", s)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("TRUSTED_PROXIES: %q is not a CIDR", s)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// withClientIP puts the client IP address into the request context
// (abuse.WithClientIP): the socket peer, or, when the peer is a trusted
// proxy, the right-most X-Forwarded-For address that is not itself trusted
// (if every hop is trusted, the left-most one). X-Forwarded-For from an
// untrusted peer is ignored, since anyone can send it.
func withClientIP(trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientIP(trusted, r)
		next.ServeHTTP(w, r.WithContext(abuse.WithClientIP(r.Context(), ip)))
	})
}

// clientIP resolves the client address of r (see withClientIP).
func clientIP(trusted []netip.Prefix, r *http.Request) string {
	peer, ok := parseHostAddr(r.RemoteAddr)
	if !ok {
		return ""
	}
	if !isTrusted(trusted, peer) {
		return peer.String()
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHostAddr(strings.TrimSpace(hops[i]))
		if !ok {
			// A hop that is not an address: whatever is left of it cannot
			// be trusted; the last trusted hop is the best we know.
			break
		}
		client = a
		if !isTrusted(trusted, a) {
			break
		}
	}
	return client.String()
}

// parseHostAddr parses an address with or without a port ("1.2.3.4",
// "1.2.3.4:80", "[::1]:80", "::1"), unmapping IPv4-in-IPv6 and dropping a
// zone.
func parseHostAddr(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return a.Unmap().WithZone(""), true
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

func isTrusted(trusted []netip.Prefix, a netip.Addr) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
