package access

import "testing"

func TestMask(t *testing.T) {
	tests := []struct {
		name string
		kind PiiMask
		in   string
		want string
	}{
		{"email short", MaskEmail, "a@b.co", "a***@***.co"},
		{"email subdomains", MaskEmail, "john.doe@mail.example.com", "j***@***.com"},
		{"email plus tag", MaskEmail, "x+tag@example.org", "x***@***.org"},
		{"email surrounding spaces", MaskEmail, "  jane@example.de ", "j***@***.de"},
		{"email unicode local", MaskEmail, "élise@example.fr", "é***@***.fr"},
		{"email empty", MaskEmail, "", "***"},
		{"email no at", MaskEmail, "john.doe.example.com", "***"},
		{"email no local", MaskEmail, "@example.com", "***"},
		{"email no dot in domain", MaskEmail, "john@localhost", "***"},
		{"email empty tld", MaskEmail, "john@example.", "***"},
		{"email empty label", MaskEmail, "john@.com", "***"},
		{"email double dot", MaskEmail, "john@a..com", "***"},
		{"email no domain", MaskEmail, "john@", "***"},
		{"email inner space", MaskEmail, "john doe@example.com", "***"},
		{"email ip literal", MaskEmail, "john@[10.0.0.1]", "***"},

		{"phone formatted", MaskPhone, "+1 (555) 010-1234", "*** **34"},
		{"phone digits", MaskPhone, "5550101212", "*** **12"},
		{"phone two digits", MaskPhone, "12", "*** **12"},
		{"phone one digit", MaskPhone, "7", "***"},
		{"phone empty", MaskPhone, "", "***"},
		{"phone no digits", MaskPhone, "call me", "***"},
		{"phone extension", MaskPhone, "555-0101 ext. 89", "*** **89"},

		{"name leading spaces", MaskName, "  jane doe", "J."},
		{"name upper", MaskName, "John", "J."},
		{"name single letter", MaskName, "q", "Q."},
		{"name unicode", MaskName, "ōsaka taro", "Ō."},
		{"name punctuation first", MaskName, "(jane)", "J."},
		{"name empty", MaskName, "", ""},
		{"name blank", MaskName, "   ", ""},

		{"company", MaskCompany, "Acme Ltd", "A***"},
		{"company leading spaces", MaskCompany, "  bolt & nut", "b***"},
		{"company unicode", MaskCompany, "Ölwerk GmbH", "Ö***"},
		{"company one letter", MaskCompany, "Z", "Z***"},
		{"company empty", MaskCompany, "", ""},

		{"text", MaskText, "Please call me about the pump at 555-0101", "[redacted]"},
		{"text empty", MaskText, "", "[redacted]"},
		{"unknown kind", PiiMask("SOMETHING"), "secret", "[redacted]"},
		{"zero kind", PiiMask(""), "secret", "[redacted]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Mask(tt.kind, tt.in); got != tt.want {
				t.Errorf("Mask(%s, %q) = %q, want %q", tt.kind, tt.in, got, tt.want)
			}
		})
	}
}
