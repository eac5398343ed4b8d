// Package notifytest is an in-process SMTP server for tests and benchmarks
// of the notification outbox: it records every message it accepts and can be
// told to refuse mail with a temporary error, as a busy server does.
package notifytest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Received is one message the server accepted.
type Received struct {
	// From is the envelope sender.
	From string
	// To are the envelope recipients.
	To []string
	// Data is the message as sent: headers and body.
	Data []byte
	// At is when the server accepted it.
	At time.Time
}

// Server is a recording SMTP server on a loopback port.
type Server struct {
	srv *smtp.Server
	ln  net.Listener

	mu        sync.Mutex
	received  []Received
	refuse    *smtp.SMTPError
	onReceive func(Received)
}

// Start listens on addr ("127.0.0.1:0" for any free port, or the address of
// a server closed before, to bring it back) and serves SMTP without TLS or
// authentication.
func Start(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{s: s}, nil
	}))
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout = 30 * time.Second
	s.srv.WriteTimeout = 30 * time.Second
	s.srv.MaxMessageBytes = 1 << 20
	s.srv.MaxRecipients = 50
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the SMTP_URL of the server.
func (s *Server) URL() string { return "smtp://" + s.Addr() }

// Messages returns a copy of what the server accepted so far, in order.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Refuse makes the server answer MAIL FROM with code (e.g. 451, a temporary
// refusal) until called again with 0, which accepts mail again.
func (s *Server) Refuse(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		s.refuse = nil
		return
	}
	s.refuse = &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 3, 0}, Message: "Try again later"}
}

// OnReceive sets a function called with every accepted message.
func (s *Server) OnReceive(f func(Received)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onReceive = f
}

// Close stops listening and drops open connections.
func (s *Server) Close() error {
	// The listener is closed here too: Serve may not have registered it
	// with the server yet.
	lnErr := s.ln.Close()
	if err := s.srv.Close(); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
		return err
	}
	if lnErr != nil && !errors.Is(lnErr, net.ErrClosed) {
		return lnErr
	}
	return nil
}

type session struct {
	s    *Server
	from string
	to   []string
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.s.mu.Lock()
	refuse := ss.s.refuse
	ss.s.mu.Unlock()
	if refuse != nil {
		return refuse
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	var b bytes.Buffer
	if _, err := io.Copy(&b, r); err != nil {
		return err
	}
	if ss.from == "" {
		return errors.New("no sender")
	}
	m := Received{From: ss.from, To: append([]string(nil), ss.to...), Data: b.Bytes(), At: time.Now()}
	ss.s.mu.Lock()
	ss.s.received = append(ss.s.received, m)
	f := ss.s.onReceive
	ss.s.mu.Unlock()
	if f != nil {
		f(m)
	}
	return nil
}

// Parsed is a received message's headers and decoded text body.
type Parsed struct {
	Header mail.Header
	// Subject is the decoded Subject header.
	Subject string
	// Body is the decoded text of the message.
	Body string
}

// Parse decodes the message's headers and its single text part (quoted-
// printable, base64 or plain).
func (r Received) Parse() (Parsed, error) {
	m, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		return Parsed{}, err
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return Parsed{}, err
	}
	var body io.Reader = m.Body
	switch strings.ToLower(m.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		return Parsed{}, err
	}
	return Parsed{Header: m.Header, Subject: subject, Body: strings.ReplaceAll(string(text), "\r\n", "\n")}, nil
}

// LeadID returns the id of the lead a notification email is about (its
// "Lead: <id>" line).
func (r Received) LeadID() (string, error) {
	p, err := r.Parse()
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(p.Body, "\n") {
		if id, ok := strings.CutPrefix(line, "Lead: "); ok {
			return strings.TrimSpace(id), nil
		}
	}
	return "", errors.New("notifytest: no lead id in the message")
}
