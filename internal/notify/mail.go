package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/partsmarket/gateway/store"
)

// Message is one email: to a seller, or an invitation to a person.
type Message struct {
	// To are the recipients' email addresses.
	To []string
	// ReplyTo is the buyer's email address, when it parses as one.
	ReplyTo string
	// Subject is the subject line.
	Subject string
	// Body is the plain-text body.
	Body string
}

// Mailer sends messages and reports, per message and in order, nil when the
// mail server accepted it or the reason it did not.
type Mailer interface {
	Send(ctx context.Context, msgs []*Message) []error
}

// Compose writes the email that tells a seller about a lead. It carries only
// what the seller sees of the lead in the portal: the buyer's name, email,
// phone, company and message, plus the lead id and the listing's title.
func Compose(job *store.NotificationJob) *Message {
	l := job.Lead
	subject := "New inquiry"
	if job.ListingTitle != nil {
		subject = "New inquiry: " + oneLine(*job.ListingTitle)
	}
	var b strings.Builder
	b.WriteString("You have a new inquiry on PartsMarket.\n\n")
	if job.ListingTitle != nil {
		fmt.Fprintf(&b, "Listing: %s\n", oneLine(*job.ListingTitle))
	} else {
		b.WriteString("Listing: (a general inquiry, not about one listing)\n")
	}
	fmt.Fprintf(&b, "Name: %s\n", oneLine(l.BuyerName))
	fmt.Fprintf(&b, "Email: %s\n", oneLine(l.Email))
	if l.Phone != nil && *l.Phone != "" {
		fmt.Fprintf(&b, "Phone: %s\n", oneLine(*l.Phone))
	}
	if l.Company != nil && *l.Company != "" {
		fmt.Fprintf(&b, "Company: %s\n", oneLine(*l.Company))
	}
	fmt.Fprintf(&b, "\nMessage:\n%s\n\n", strings.ReplaceAll(l.Message, "\r", ""))
	fmt.Fprintf(&b, "Lead: %s\n", l.ID)
	b.WriteString("Reply to the buyer directly, or open the lead in the seller portal.\n")
	m := &Message{To: job.Recipients, Subject: subject, Body: b.String()}
	if validAddress(l.Email) {
		m.ReplyTo = l.Email
	}
	return m
}

// InvitationCodeLabel starts the line of an invitation mail that carries
// the token.
const InvitationCodeLabel = "Invitation code: "

// ComposeInvitation writes the email that invites a person to join a
// seller: the seller's name, the role, the single-use token to accept with
// once signed in, and when it expires.
func ComposeInvitation(job *store.InvitationMailJob) *Message {
	seller := oneLine(job.SellerName)
	var b strings.Builder
	fmt.Fprintf(&b, "You are invited to join %s on PartsMarket as %s.\n\n", seller, strings.ToLower(string(job.Role)))
	b.WriteString("Sign in to PartsMarket, then accept the invitation with this code. It works once.\n\n")
	fmt.Fprintf(&b, "%s%s\n\n", InvitationCodeLabel, job.Token)
	fmt.Fprintf(&b, "The invitation expires on %s.\n", job.ExpiresAt.UTC().Format("2 January 2006 15:04 MST"))
	b.WriteString("If you did not expect it, ignore this mail: nothing happens unless the code is used.\n")
	return &Message{To: []string{job.Email}, Subject: "Invitation to join " + seller + " on PartsMarket", Body: b.String()}
}

// validAddress reports whether addr is a bare address go-mail accepts.
func validAddress(addr string) bool {
	return mail.NewMsg().ReplyTo(addr) == nil
}

// oneLine removes line breaks and other control characters, so that a value
// stays on its line (and out of the headers).
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// SMTP sends mail through one SMTP server with go-mail.
type SMTP struct {
	client *mail.Client
	from   string
}

// smtpTimeout bounds each step of a conversation with the mail server.
const smtpTimeout = 15 * time.Second

// NewSMTP returns a Mailer for rawURL, smtp://[user:pass@]host[:port]
// (STARTTLS when the server offers it, port 587 by default) or
// smtps://[user:pass@]host[:port] (implicit TLS, port 465 by default),
// sending from from. With a user name, it authenticates with the strongest
// mechanism the server offers (PLAIN and LOGIN only over TLS). Errors never
// quote the URL, which may hold a password.
func NewSMTP(rawURL, from string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" || (u.Scheme != "smtp" && u.Scheme != "smtps") {
		return nil, errors.New("notify: SMTP_URL must look like smtp://user:pass@host:port or smtps://…")
	}
	if from == "" || mail.NewMsg().From(from) != nil {
		return nil, errors.New("notify: MAIL_FROM must be an email address")
	}
	opts := []mail.Option{mail.WithTimeout(smtpTimeout), mail.WithoutNoop()}
	port := 587
	if u.Scheme == "smtps" {
		port = 465
		opts = append(opts, mail.WithSSL())
	} else {
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, errors.New("notify: SMTP_URL has a bad port")
		}
	}
	opts = append(opts, mail.WithPort(port), mail.WithTLSConfig(&tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}))
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(user), mail.WithPassword(pass))
	}
	c, err := mail.NewClient(u.Hostname(), opts...)
	if err != nil {
		return nil, errors.New("notify: bad SMTP settings")
	}
	return &SMTP{client: c, from: from}, nil
}

// Send delivers msgs over one connection to the server.
func (s *SMTP) Send(ctx context.Context, msgs []*Message) []error {
	errs := make([]error, len(msgs))
	built := make([]*mail.Msg, 0, len(msgs))
	index := make([]int, 0, len(msgs))
	for i, m := range msgs {
		mm, err := s.build(m)
		if err != nil {
			errs[i] = err
			continue
		}
		built = append(built, mm)
		index = append(index, i)
	}
	if len(built) == 0 {
		return errs
	}
	sendErr := s.client.DialAndSendWithContext(ctx, built...)
	for k, mm := range built {
		switch {
		case mm.IsDelivered():
		case mm.HasSendError():
			errs[index[k]] = mm.SendError()
		case sendErr != nil:
			errs[index[k]] = sendErr
		default:
			errs[index[k]] = errors.New("not delivered")
		}
	}
	return errs
}

// errBadMessage is a message that could not be built (an address refused).
var errBadMessage = errors.New("notify: message could not be built")

func (s *SMTP) build(m *Message) (*mail.Msg, error) {
	mm := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := mm.From(s.from); err != nil {
		return nil, errBadMessage
	}
	if err := mm.To(m.To...); err != nil {
		return nil, errBadMessage
	}
	if m.ReplyTo != "" {
		_ = mm.ReplyTo(m.ReplyTo)
	}
	mm.Subject(m.Subject)
	mm.SetDate()
	mm.SetMessageID()
	mm.SetBodyString(mail.TypeTextPlain, m.Body)
	return mm, nil
}

// Describe returns a short text about a delivery error for last_error: the
// SMTP stage, reply code and enhanced status code, or the kind of network
// failure. It never includes the server's free text, addresses or the
// message, so it carries no personal data.
func Describe(err error) string {
	if err == nil {
		return ""
	}
	var se *mail.SendError
	if errors.As(err, &se) {
		out := "smtp: " + se.Reason.String() + " failed"
		if code := se.ErrorCode(); code != 0 {
			out += " (" + strconv.Itoa(code)
			if esc := se.EnhancedStatusCode(); esc != "" {
				out += " " + esc
			}
			out += ")"
		} else if d := network(err); d != "" {
			out += " (" + d + ")"
		}
		return out
	}
	if errors.Is(err, errBadMessage) {
		return "smtp: bad recipient or sender address"
	}
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return "smtp: server refused (" + strconv.Itoa(tp.Code) + ")"
	}
	if d := network(err); d != "" {
		return "smtp: " + d
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return "smtp: timed out"
	}
	return "smtp: delivery failed"
}

// network names a network failure, or returns "".
func network(err error) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.As(err, &dnsErr):
		return "host not found"
	case errors.As(err, &certErr), errors.As(err, &recErr):
		return "TLS failed"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timed out"
	case errors.As(err, &netErr):
		return "network error"
	}
	return ""
}

// permanent reports whether err is a permanent refusal of the recipients
// (a 5xx reply to RCPT TO): retrying will not help. Other errors, a
// misconfigured server's 5xx to MAIL FROM or AUTH included, are retried.
func permanent(err error) bool {
	var se *mail.SendError
	return errors.As(err, &se) && se.Reason == mail.ErrSMTPRcptTo && se.ErrorCode() >= 500
}
