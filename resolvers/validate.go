package resolvers

import (
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/partsmarket/gateway/store"
)

// check collects the invalid fields of one input, one error per field.
type check struct {
	errs store.FieldErrors
}

// required trims v and reports it when empty or longer than max characters.
func (c *check) required(field, v string, max int) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		c.errs.Add(field, "is required")
	case utf8.RuneCountInString(v) > max:
		c.errs.Add(field, tooLong(max))
	}
	return v
}

// optional trims v, treats "" as null, and reports it when longer than max.
func (c *check) optional(field string, v *string, max int) *string {
	return c.errs.Optional(field, v, max)
}

// id trims an optional id and treats "" as null. Ids get no length check:
// a malformed id must read like one that does not exist.
func (c *check) id(v *string) *string {
	if v == nil || strings.TrimSpace(*v) == "" {
		return nil
	}
	t := strings.TrimSpace(*v)
	return &t
}

// patch is optional for updates: nil stays nil (leave as is), and "" stays ""
// (clear the field).
func (c *check) patch(field string, v *string, max int) *string {
	if v == nil {
		return nil
	}
	if t := c.optional(field, v, max); t != nil {
		return t
	}
	empty := ""
	return &empty
}

func itoa(n int) string { return strconv.Itoa(n) }

func tooLong(max int) string {
	return "must be at most " + itoa(max) + " characters"
}

// email reports v when it is not a plain email address.
func (c *check) email(field, v string) {
	if v != "" && !validEmail(v) {
		c.errs.Add(field, "is not a valid email address")
	}
}

func validEmail(v string) bool {
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" || len(v) > 254 {
		return false
	}
	at := strings.LastIndexByte(v, '@')
	return at > 0 && strings.Contains(v[at+1:], ".")
}

var phoneChars = regexp.MustCompile(`^\+?[0-9 ().-]+$`)

// phone reports v when it is not a phone number of 7 to 15 digits.
func (c *check) phone(field string, v *string) {
	if v != nil && !validPhone(*v) {
		c.errs.Add(field, "is not a valid phone number")
	}
}

func validPhone(v string) bool {
	digits := 0
	for _, r := range v {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	return phoneChars.MatchString(v) && digits >= 7 && digits <= 15
}

// webURL reports v when it is not an absolute http or https URL.
func (c *check) webURL(field string, v *string) {
	if v == nil || *v == "" {
		return
	}
	u, err := url.Parse(*v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(*v) > 2048 {
		c.errs.Add(field, "must be an http or https URL")
	}
}

// atLeast reports v when it is below min.
func (c *check) atLeast(field string, v *int, min int) {
	if v != nil && *v < min {
		c.errs.Add(field, "must be at least "+strconv.Itoa(min))
	}
}

// wellFormedID reports v when it is not a well-formed id; bad names the
// message.
func (c *check) wellFormedID(field string, v *string, bad string) {
	if v != nil && *v != "" && !store.ValidID(*v) {
		c.errs.Add(field, bad)
	}
}

var (
	countryCode  = regexp.MustCompile(`^[A-Z]{2}$`)
	currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)
	slugPattern  = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// code upper-cases v and reports it when it does not match pattern.
func (c *check) code(field string, v *string, pattern *regexp.Regexp, what string) *string {
	if v == nil {
		return nil
	}
	u := strings.ToUpper(*v)
	if !pattern.MatchString(u) {
		c.errs.Add(field, "must be "+what)
	}
	return &u
}

// maxItems reports a list longer than max.
func (c *check) maxItems(field string, n, max int) {
	if n > max {
		c.errs.Add(field, "must have at most "+itoa(max)+" items")
	}
}

// notFound reports field when err is NOT_FOUND (an id that does not exist or
// that the caller may not see: the same answer for both) and returns any
// other error.
func (c *check) notFound(err error, field, message string) error {
	if store.ErrorCode(err) != store.ENOTFOUND {
		return err
	}
	c.errs.Add(field, message)
	return nil
}
