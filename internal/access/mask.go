package access

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PiiMask says how a personal field is masked for analysts; the GraphQL enum
// PiiMask is bound to it and it returns no errors.
type PiiMask string

// The masks of @pii(mask:), with what an analyst sees.
const (
	// MaskEmail keeps the local part's first character and the top-level
	// domain: "j***@***.com".
	MaskEmail PiiMask = "EMAIL"
	// MaskPhone keeps the last two digits: "*** **12".
	MaskPhone PiiMask = "PHONE"
	// MaskName keeps the first initial, upper-case: "J.".
	MaskName PiiMask = "NAME"
	// MaskCompany keeps the first character: "A***".
	MaskCompany PiiMask = "COMPANY"
	// MaskText hides free text entirely: "[redacted]".
	MaskText PiiMask = "TEXT"
)

// Placeholders of masked values.
const (
	maskedUnknown = "***"
	maskedText    = "[redacted]"
)

// Mask returns v masked for an analyst per kind (email "j***@***.com" or
// "***" when v is not an email, phone "*** **12" or "***" under two digits,
// name "J." or "" when v has no letter or digit, company "A***" or "" when
// blank, text and any unknown kind "[redacted]"); it returns no error.
func Mask(kind PiiMask, v string) string {
	switch kind {
	case MaskEmail:
		return maskEmail(v)
	case MaskPhone:
		return maskPhone(v)
	case MaskName:
		return maskName(v)
	case MaskCompany:
		return maskCompany(v)
	}
	return maskedText
}

// maskEmail keeps the first character of the local part and the top-level
// domain of an address that looks like local@label.tld.
func maskEmail(v string) string {
	v = strings.TrimSpace(v)
	at := strings.LastIndexByte(v, '@')
	if at <= 0 || strings.IndexFunc(v, unicode.IsSpace) >= 0 {
		return maskedUnknown
	}
	local, domain := v[:at], v[at+1:]
	labels := strings.Split(domain, ".")
	if len(labels) < 2 || slices.Contains(labels, "") {
		return maskedUnknown
	}
	tld := labels[len(labels)-1]
	if len(tld) > 63 || strings.IndexFunc(tld, notLabelRune) >= 0 {
		return maskedUnknown
	}
	first, _ := utf8.DecodeRuneInString(local)
	return string(first) + "***@***." + tld
}

// notLabelRune reports a rune that cannot be in a domain label.
func notLabelRune(r rune) bool {
	return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-')
}

// maskPhone keeps the last two digits of v.
func maskPhone(v string) string {
	var last [2]rune
	n := 0
	for _, r := range v {
		if unicode.IsDigit(r) {
			last[0], last[1] = last[1], r
			n++
		}
	}
	if n < 2 {
		return maskedUnknown
	}
	return "*** **" + string(last[:])
}

// maskName keeps the first letter or digit of v, upper-cased, and a dot.
func maskName(v string) string {
	i := strings.IndexFunc(v, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) })
	if i < 0 {
		return ""
	}
	r, _ := utf8.DecodeRuneInString(v[i:])
	return string(unicode.ToUpper(r)) + "."
}

// maskCompany keeps the first non-space character of v.
func maskCompany(v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	r, _ := utf8.DecodeRuneInString(v)
	return string(r) + maskedUnknown
}
