package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/partsmarket/gateway/internal/access"
)

// loadSchema parses schema.graphql, the source of the access rules.
func loadSchema(t *testing.T) *ast.Schema {
	t.Helper()
	src, err := os.ReadFile("schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: string(src)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// protected lists every field of an object type that carries an access
// directive, as "Type.field".
func protected(s *ast.Schema) map[string]*ast.FieldDefinition {
	out := map[string]*ast.FieldDefinition{}
	for _, def := range s.Types {
		if def.Kind != ast.Object || strings.HasPrefix(def.Name, "__") {
			continue
		}
		for _, f := range def.Fields {
			for _, d := range f.Directives {
				if d.Name == "hasRole" || d.Name == "owner" || d.Name == "pii" {
					out[def.Name+"."+f.Name] = f
				}
			}
		}
	}
	return out
}

// principal is one caller of the matrix.
type principal struct {
	name  string
	role  access.Role
	token string
	owner bool // the seller owning the fixture's rows
}

// reach says how the matrix reaches one object of a type owned by seller A,
// and who may see that object at all.
type reach struct {
	query   string // with %s where the field goes and $id bound to id
	id      func(f *fixture) string
	path    string // to the object in the response data
	visible func(p principal) bool
}

func everyone(principal) bool { return true }

func ownerAdminAnalyst(p principal) bool {
	return p.owner || p.role == access.RoleAdmin || p.role == access.RoleAnalyst
}

var reaches = map[string]reach{
	"Seller":  {`query($id: ID!) { seller(id: $id) { %s } }`, func(f *fixture) string { return f.SellerA.ID }, "seller", everyone},
	"Listing": {`query($id: ID!) { listing(id: $id) { %s } }`, func(f *fixture) string { return f.ListingA.ID }, "listing", everyone},
	"Lead":    {`query($id: ID!) { lead(id: $id) { %s } }`, func(f *fixture) string { return f.LeadA }, "lead", ownerAdminAnalyst},
	"ListingReport": {`query($id: ID!) { reports(filter: {listingId: $id}) { nodes { %s } } }`,
		func(f *fixture) string { return f.ListingA.ID }, "reports.nodes.0", ownerAdminAnalyst},
	"LeadNotification": {`query($id: ID!) { lead(id: $id) { notification { %s } } }`,
		func(f *fixture) string { return f.LeadA }, "lead.notification", ownerAdminAnalyst},
	"SellerMember": {`query($id: ID!) { seller(id: $id) { members { %s } } }`,
		func(f *fixture) string { return f.SellerA.ID }, "seller.members.0", ownerAdminAnalyst},
	// Root fields are reached at the root ("" path); $id is not used.
	"Query": {`query { %s }`, func(*fixture) string { return "" }, "", everyone},
}

// rootArgs are well-formed arguments of the protected root fields that
// require some.
var rootArgs = map[string]string{
	"marketplaceMetrics": `(from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z", groupBy: [])`,
}

// allowed decides from a field's directives whether p may read it, and
// whether the value comes back masked.
func allowed(f *ast.FieldDefinition, p principal) (ok, masked bool) {
	ok = true
	for _, d := range f.Directives {
		switch d.Name {
		case "hasRole":
			var roles []string
			for _, c := range d.Arguments.ForName("roles").Value.Children {
				roles = append(roles, c.Value.Raw)
			}
			ok = ok && (p.role == access.RoleAdmin || slices.Contains(roles, string(p.role)))
		case "owner":
			ok = ok && (p.owner || p.role == access.RoleAdmin || p.role == access.RoleAnalyst)
		case "pii":
			ok = ok && (p.owner || p.role == access.RoleAdmin || p.role == access.RoleAnalyst)
			masked = p.role == access.RoleAnalyst
		}
	}
	return ok, masked
}

// selection selects a field: scalars as they are, objects by __typename.
func selection(s *ast.Schema, f *ast.FieldDefinition) string {
	if def := s.Types[f.Type.Name()]; def != nil && def.Kind == ast.Object {
		return f.Name + " { __typename }"
	}
	return f.Name
}

// refusalFor is the code of a refusal to the caller with token: an anonymous
// caller (no token) is told to sign in, anyone else is FORBIDDEN.
func refusalFor(token string) string {
	if token == "" {
		return "UNAUTHENTICATED"
	}
	return "FORBIDDEN"
}

// TestAccessMatrix reads every protected field from schema.graphql and checks
// it for every principal: readable as its directives say, masked for analysts when
// personal, and otherwise null with exactly one error on its path
// (UNAUTHENTICATED when anonymous, FORBIDDEN otherwise) while the rest of the
// response stands.
func TestAccessMatrix(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	// Give every protected column a value so that "readable" is visible.
	api.DB.MustExec(`UPDATE sellers SET internal_notes = 'pays late' WHERE id = $1`, f.SellerA.ID)
	api.DB.MustExec(`UPDATE listings SET removal_reason = 'old reason', moderation_note = 'watch this seller' WHERE id = $1`, f.ListingA.ID)
	api.DB.MustExec(`UPDATE lead_notifications SET last_error = '421 mail server busy' WHERE lead_id = $1`, f.LeadA)
	api.mustPost(f.TokenA, setNotificationsMutation, map[string]any{"id": f.SellerA.ID,
		"input": map[string]any{"notificationEmail": "private.leads@alpha.example"}})

	schema := loadSchema(t)
	principals := matrixPrincipals(f)
	fields := protected(schema)
	if len(fields) < 10 {
		t.Fatalf("found %d protected fields in the schema; the directives are not being read", len(fields))
	}
	for name, field := range fields {
		typeName, fieldName, _ := strings.Cut(name, ".")
		if typeName == "Mutation" {
			continue // TestMutationRoles
		}
		t.Run(name, func(t *testing.T) {
			if field.Type.NonNull {
				t.Fatalf("%s carries an access directive but is non-null; a denial would null its parent", name)
			}
			r, ok := reaches[typeName]
			if !ok {
				t.Fatalf("the matrix cannot reach type %s: add it to reaches", typeName)
			}
			query := fmt.Sprintf(r.query, "__typename "+strings.Replace(selection(schema, field), fieldName, fieldName+rootArgs[fieldName], 1))
			vars := map[string]any{"id": r.id(f)}
			truth := api.mustPost(f.Admin, query, vars).Get(r.path + "." + fieldName)
			if truth == nil {
				t.Fatalf("the fixture leaves %s null even for an admin; give it a value", name)
			}
			for _, p := range principals {
				t.Run(p.name, func(t *testing.T) {
					resp := api.post(p.token, query, vars)
					got := resp.Get(r.path + "." + fieldName)
					if !r.visible(p) {
						if got != nil || resp.Get(r.path+".__typename") != nil {
							t.Fatalf("%s sees a row it may not see: %s", p.name, resp.Raw)
						}
						return
					}
					if resp.Get(r.path+".__typename") == nil {
						t.Fatalf("the rest of the response did not stand: %s", resp.Raw)
					}
					ok, masked := allowed(field, p)
					switch {
					case ok && masked:
						mask := access.PiiMask(fieldDirectiveArg(field, "pii", "mask"))
						if want := access.Mask(mask, truth.(string)); got != want {
							t.Errorf("got %v, want masked %q", got, want)
						}
					case ok:
						if len(resp.Errors) > 0 || fmt.Sprint(got) != fmt.Sprint(truth) {
							t.Errorf("got %v (errors %v), want %v", got, resp.Errors, truth)
						}
					default:
						if got != nil {
							t.Errorf("got %v, want null", got)
						}
						if len(resp.Errors) != 1 || resp.Errors[0].Code() != refusalFor(p.token) ||
							!strings.HasSuffix(resp.Errors[0].PathString(), fieldName) {
							t.Errorf("got errors %s, want one %s on the field's path", resp.Raw, refusalFor(p.token))
						}
					}
				})
			}
		})
	}
}

// fieldDirectiveArg returns the raw value of a directive's argument.
func fieldDirectiveArg(f *ast.FieldDefinition, directive, arg string) string {
	return f.Directives.ForName(directive).Arguments.ForName(arg).Value.Raw
}

// TestMutationRoles sends every mutation that carries @hasRole, with
// well-formed arguments, as every role it does not name (and anonymously),
// and expects FORBIDDEN (UNAUTHENTICATED when anonymous) before anything
// runs. Analysts never write.
func TestMutationRoles(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	schema := loadSchema(t)
	callers := map[access.Role]string{"": "", access.RoleSeller: f.TokenB, access.RoleAnalyst: f.Analyst, access.RoleUser: f.User}
	for _, field := range schema.Mutation.Fields {
		d := field.Directives.ForName("hasRole")
		if d == nil {
			continue
		}
		var roles []string
		for _, c := range d.Arguments.ForName("roles").Value.Children {
			roles = append(roles, c.Value.Raw)
		}
		if slices.Contains(roles, string(access.RoleAnalyst)) {
			t.Errorf("mutation %s lets analysts write", field.Name)
		}
		args := argumentsOf(schema, field.Arguments)
		head := "mutation"
		if strings.Contains(args, "$file") {
			head += "($file: Upload!)" // an Upload is a file of a multipart request, never a literal
		}
		query := head + " { " + field.Name + args + " { __typename } }"
		for role, token := range callers {
			if slices.Contains(roles, string(role)) {
				continue
			}
			t.Run(field.Name+"/"+string(role), func(t *testing.T) {
				resp := api.post(token, query, nil)
				if strings.HasPrefix(query, "mutation($file") {
					resp = api.postUpload(token, query, nil, "file", "roles.csv", []byte("sku,title,condition\nS1,Pump,NEW\n"))
				}
				if len(resp.Errors) != 1 || resp.Errors[0].Code() != refusalFor(token) {
					t.Errorf("got %s, want %s", resp.Raw, refusalFor(token))
				}
			})
		}
	}
	var n int
	if err := api.DB.GetContext(context.Background(), &n, `SELECT count(*) FROM sellers`); err != nil || n != 3 {
		t.Errorf("sellers after forbidden mutations: %d (%v), want the fixture's 3", n, err)
	}
}

// argumentsOf writes well-formed literal arguments for the required
// arguments of a field (and every field of required input objects).
func argumentsOf(s *ast.Schema, args ast.ArgumentDefinitionList) string {
	var parts []string
	for _, a := range args {
		if a.Type.NonNull {
			parts = append(parts, a.Name+": "+literal(s, a.Type))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func literal(s *ast.Schema, t *ast.Type) string {
	if t.Elem != nil {
		return "[" + literal(s, t.Elem) + "]"
	}
	def := s.Types[t.Name()]
	switch {
	case t.Name() == "ID":
		return `"` + uuid.NewString() + `"`
	case t.Name() == "String":
		return `"x"`
	case t.Name() == "Int":
		return "1"
	case t.Name() == "Boolean":
		return "true"
	case t.Name() == "Upload":
		return "$file"
	case def.Kind == ast.Enum:
		return def.EnumValues[0].Name
	case def.Kind == ast.InputObject:
		var parts []string
		for _, f := range def.Fields {
			if f.Type.NonNull {
				parts = append(parts, f.Name+": "+literal(s, f.Type))
			}
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return `"x"`
}

// anonymousMutations are well-formed calls, on the fixture, of the mutations
// open to anonymous callers: each would change data if it ran, so that an
// analyst's refusal is seen to come from its role and not from its input.
var anonymousMutations = map[string]func(f *fixture) (string, map[string]any){
	"submitLead": func(f *fixture) (string, map[string]any) {
		return `mutation($in: SubmitLeadInput!) { submitLead(input: $in) { leadId } }`, map[string]any{"in": map[string]any{
			"listingId": f.ListingA.ID, "buyerName": "Ana Lyst", "email": "ana.lyst@example.com", "message": "Still for sale?",
			"captchaToken": "ok"}}
	},
	"reportListing": func(f *fixture) (string, map[string]any) {
		return `mutation($in: ReportListingInput!) { reportListing(input: $in) { reportId } }`, map[string]any{"in": map[string]any{
			"listingId": f.ListingA.ID, "reason": "SCAM", "captchaToken": "ok"}}
	},
	"recordEvent": func(f *fixture) (string, map[string]any) {
		return `mutation($in: RecordEventInput!) { recordEvent(input: $in) { accepted } }`, map[string]any{"in": map[string]any{
			"type": "LISTING_VIEW", "listingId": f.ListingA.ID}}
	},
}

// TestAnalystsNeverMutate sends every mutation of the schema as an analyst,
// the anonymous ones with input that works for an anonymous caller, and
// expects one FORBIDDEN on the mutation, no data and nothing changed.
func TestAnalystsNeverMutate(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	schema := loadSchema(t)
	count := func(table string) int {
		var n int
		if err := api.DB.Get(&n, `SELECT count(*) FROM `+table); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := idorSnapshot(t, api)
	auditBefore, eventsBefore := count("audit_events"), count("events")
	for _, field := range schema.Mutation.Fields {
		t.Run(field.Name, func(t *testing.T) {
			var resp gqlResponse
			switch mk, open := anonymousMutations[field.Name]; {
			case field.Directives.ForName("hasRole") == nil && !open:
				t.Fatalf("mutation %s is open to anonymous callers: give it a well-formed call in anonymousMutations", field.Name)
			case open:
				q, vars := mk(f)
				resp = api.post(f.Analyst, q, vars)
			default:
				args := argumentsOf(schema, field.Arguments)
				q := "mutation { " + field.Name + args + " { __typename } }"
				if strings.Contains(args, "$file") {
					q = "mutation($file: Upload!) { " + field.Name + args + " { __typename } }"
					resp = api.postUpload(f.Analyst, q, nil, "file", "analyst.csv", []byte("sku,title,condition\nS1,Pump,NEW\n"))
					break
				}
				resp = api.post(f.Analyst, q, nil)
			}
			if len(resp.Errors) != 1 || resp.Errors[0].Code() != "FORBIDDEN" || resp.Errors[0].PathString() != field.Name || resp.Data != nil {
				t.Errorf("got %s, want one FORBIDDEN on %s and no data", resp.Raw, field.Name)
			}
		})
	}
	api.flushEvents()
	idorSameDB(t, before, idorSnapshot(t, api))
	if a, e := count("audit_events"), count("events"); a != auditBefore || e != eventsBefore {
		t.Errorf("audit events %d → %d, events %d → %d; want no change", auditBefore, a, eventsBefore, e)
	}
	// The same calls from an anonymous caller go through: they were well-formed.
	for name, mk := range anonymousMutations {
		q, vars := mk(f)
		if r := api.post("", q, vars); len(r.Errors) > 0 {
			t.Errorf("%s as anonymous: %s", name, r.Raw)
		}
	}
}

// guardedInputs returns the input fields that carry @hasRole, as
// "Input.field", with the directive's roles.
func guardedInputs(s *ast.Schema) map[string][]string {
	out := map[string][]string{}
	for _, def := range s.Types {
		if def.Kind != ast.InputObject {
			continue
		}
		for _, f := range def.Fields {
			if d := f.Directives.ForName("hasRole"); d != nil {
				out[def.Name+"."+f.Name] = directiveRoles(d)
			}
		}
	}
	return out
}

// directiveRoles returns the roles of a @hasRole.
func directiveRoles(d *ast.Directive) []string {
	var roles []string
	for _, c := range d.Arguments.ForName("roles").Value.Children {
		roles = append(roles, c.Value.Raw)
	}
	return roles
}

// nodeType is the type of the rows a field answers: its element type, or a
// connection's node type.
func nodeType(s *ast.Schema, f *ast.FieldDefinition) *ast.Definition {
	def := s.Types[f.Type.Name()]
	if def != nil && def.Kind == ast.Object && strings.HasSuffix(def.Name, "Connection") {
		if nodes := def.Fields.ForName("nodes"); nodes != nil {
			return s.Types[nodes.Type.Name()]
		}
	}
	return def
}

// TestFiltersGuardedLikeTheirFields reads every argument of schema.graphql,
// and every field of the input objects they take, that has the name of a
// field of the rows it narrows (LeadFilter.email narrows Lead.email). When
// that field is protected, the argument must carry @hasRole, and its roles
// must not let anyone filter on what the field hides from them: none that
// reads a @pii field masked (ANALYST), none beyond a @hasRole field's roles.
func TestFiltersGuardedLikeTheirFields(t *testing.T) {
	s := loadSchema(t)
	checked := 0
	check := func(where string, row *ast.Definition, name string, directives ast.DirectiveList) {
		rf := row.Fields.ForName(name)
		if rf == nil {
			return
		}
		pii, role, owner := rf.Directives.ForName("pii"), rf.Directives.ForName("hasRole"), rf.Directives.ForName("owner")
		if pii == nil && role == nil && owner == nil {
			return
		}
		checked++
		guard := directives.ForName("hasRole")
		if guard == nil {
			t.Errorf("%s filters on %s.%s, which is protected, without @hasRole", where, row.Name, name)
			return
		}
		roles := directiveRoles(guard)
		if pii != nil && slices.Contains(roles, string(access.RoleAnalyst)) {
			t.Errorf("%s lets analysts filter on %s.%s, which they read masked", where, row.Name, name)
		}
		if role != nil {
			for _, r := range roles {
				if !slices.Contains(directiveRoles(role), r) {
					t.Errorf("%s lets %s filter on %s.%s, which it may not read", where, r, row.Name, name)
				}
			}
		}
	}
	for _, def := range s.Types {
		if def.Kind != ast.Object || strings.HasPrefix(def.Name, "__") {
			continue
		}
		for _, f := range def.Fields {
			row := nodeType(s, f)
			if row == nil || row.Kind != ast.Object {
				continue
			}
			for _, a := range f.Arguments {
				where := def.Name + "." + f.Name + "(" + a.Name + ")"
				in := s.Types[a.Type.Name()]
				if in == nil || in.Kind != ast.InputObject {
					check(where, row, a.Name, a.Directives)
					continue
				}
				for _, x := range in.Fields {
					check(where+" "+in.Name+"."+x.Name, row, x.Name, x.Directives)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("found no argument over protected data; the schema is not being read")
	}
}

// errorShape is what a response says about access: its HTTP status and each
// error's code, path and field.
func errorShape(r gqlResponse) string {
	out := fmt.Sprint(r.Status)
	for _, e := range r.Errors {
		out += " " + e.Code() + "@" + e.PathString() + "/" + e.Field()
	}
	return out
}

// TestArgumentMatrix uses every input field that carries @hasRole, wherever
// its input object is an argument, as every principal. Those the roles admit
// get the same errors as without it; the others get the field null with one
// error on its path, UNAUTHENTICATED when anonymous and FORBIDDEN otherwise,
// naming the argument in extensions.field. Leaving it null is everyone's
// right.
func TestArgumentMatrix(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	schema := loadSchema(t)
	principals := matrixPrincipals(f)
	guarded := guardedInputs(schema)
	if len(guarded) == 0 {
		t.Fatal("no input field carries @hasRole; the schema is not being read")
	}
	uses := 0
	for _, def := range schema.Types {
		if def.Kind != ast.Object || strings.HasPrefix(def.Name, "__") {
			continue
		}
		for _, field := range def.Fields {
			for _, arg := range field.Arguments {
				for name, roles := range guarded {
					input, inputField, _ := strings.Cut(name, ".")
					if arg.Type.Name() != input {
						continue
					}
					r, ok := reaches[def.Name]
					if !ok {
						t.Errorf("the matrix cannot reach %s.%s: add %s to reaches", def.Name, field.Name, def.Name)
						continue
					}
					uses++
					argPath := arg.Name + "." + inputField
					fieldPath := strings.TrimPrefix(r.path+"."+field.Name, ".")
					xType := schema.Types[input].Fields.ForName(inputField).Type
					with := fmt.Sprintf(r.query, "__typename "+field.Name+"("+arg.Name+": {"+inputField+": "+literal(schema, xType)+"}) { __typename }")
					unset := fmt.Sprintf(r.query, "__typename "+field.Name+"("+arg.Name+": {"+inputField+": null}) { __typename }")
					without := fmt.Sprintf(r.query, "__typename "+field.Name+" { __typename }")
					vars := map[string]any{}
					if strings.Contains(r.query, "$id") {
						vars["id"] = r.id(f)
					}
					for _, p := range principals {
						t.Run(def.Name+"."+field.Name+"("+argPath+")/"+p.name, func(t *testing.T) {
							base := errorShape(api.post(p.token, without, vars))
							if got := errorShape(api.post(p.token, unset, vars)); got != base {
								t.Errorf("with %s null: %s, want as without it: %s", argPath, got, base)
							}
							resp := api.post(p.token, with, vars)
							if p.role == access.RoleAdmin || slices.Contains(roles, string(p.role)) {
								if got := errorShape(resp); got != base {
									t.Errorf("with %s: %s, want as without it: %s", argPath, got, base)
								}
								return
							}
							if len(resp.Errors) != 1 || resp.Errors[0].Code() != refusalFor(p.token) ||
								resp.Errors[0].Field() != argPath || resp.Errors[0].PathString() != fieldPath || resp.Get(fieldPath) != nil {
								t.Errorf("got %s, want %s null and one %s on it naming %s", resp.Raw, fieldPath, refusalFor(p.token), argPath)
							}
						})
					}
				}
			}
		}
	}
	if uses == 0 {
		t.Fatal("no field takes a guarded input object")
	}
}

// TestAnalystCannotFindLeadsByEmail is the example: an analyst who
// knows a buyer's email cannot list that buyer's leads, while the seller
// owning them and an admin can.
func TestAnalystCannotFindLeadsByEmail(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	q := `query($e: String) { leads(filter: {email: $e}) { totalCount nodes { id } } }`
	vars := map[string]any{"e": "Jane.Buyer@example.com"}
	r := api.post(f.Analyst, q, vars)
	if len(r.Errors) != 1 || r.Errors[0].Code() != "FORBIDDEN" || r.Errors[0].Field() != "filter.email" || strings.Contains(r.Raw, f.LeadA) {
		t.Errorf("analyst: got %s, want one FORBIDDEN naming filter.email and no lead", r.Raw)
	}
	for who, tc := range map[string]struct {
		token string
		want  float64
	}{"owner": {f.TokenA, 1}, "admin": {f.Admin, 2}} {
		r := api.mustPost(tc.token, q, vars)
		if got := r.Get("leads.totalCount"); got != tc.want {
			t.Errorf("%s: %v leads by email, want %v", who, got, tc.want)
		}
	}
}

// matrixPrincipals are the callers the matrices try every guarded field and
// argument with: anonymous, the owning seller, another seller, an analyst,
// an admin, a signed-in user of no seller, and the owning seller's OWNER and
// STAFF members.
func matrixPrincipals(f *fixture) []principal {
	return []principal{
		{name: "anonymous"},
		{name: "owner", role: access.RoleSeller, token: f.TokenA, owner: true},
		{name: "other seller", role: access.RoleSeller, token: f.TokenB},
		{name: "analyst", role: access.RoleAnalyst, token: f.Analyst},
		{name: "admin", role: access.RoleAdmin, token: f.Admin},
		{name: "user", role: access.RoleUser, token: f.User},
		{name: "owner member", role: access.RoleSeller, token: f.OwnerA, owner: true},
		{name: "staff member", role: access.RoleSeller, token: f.StaffA, owner: true},
	}
}
