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

// TestAccessMatrix reads every protected field from schema.graphql and checks
// it for every principal: readable as API.md says, masked for analysts when
// personal, and otherwise null with exactly one FORBIDDEN error on its path
// while the rest of the response stands.
func TestAccessMatrix(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	// Give every protected column a value so that "readable" is visible.
	api.DB.MustExec(`UPDATE sellers SET internal_notes = 'pays late' WHERE id = $1`, f.SellerA.ID)
	api.DB.MustExec(`UPDATE listings SET removal_reason = 'old reason', moderation_note = 'watch this seller' WHERE id = $1`, f.ListingA.ID)
	api.DB.MustExec(`UPDATE lead_notifications SET last_error = '421 mail server busy' WHERE lead_id = $1`, f.LeadA)

	schema := loadSchema(t)
	principals := []principal{
		{name: "anonymous"},
		{name: "owner", role: access.RoleSeller, token: f.TokenA, owner: true},
		{name: "other seller", role: access.RoleSeller, token: f.TokenB},
		{name: "analyst", role: access.RoleAnalyst, token: f.Analyst},
		{name: "admin", role: access.RoleAdmin, token: f.Admin},
	}
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
						if len(resp.Errors) != 1 || resp.Errors[0].Code() != "FORBIDDEN" ||
							!strings.HasSuffix(resp.Errors[0].PathString(), fieldName) {
							t.Errorf("got errors %s, want one FORBIDDEN on the field's path", resp.Raw)
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
// and expects FORBIDDEN before anything runs. Analysts never write.
func TestMutationRoles(t *testing.T) {
	api := newTestAPI(t, nil)
	f := api.newFixture()
	schema := loadSchema(t)
	callers := map[access.Role]string{"": "", access.RoleSeller: f.TokenB, access.RoleAnalyst: f.Analyst}
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
				if len(resp.Errors) != 1 || resp.Errors[0].Code() != "FORBIDDEN" {
					t.Errorf("got %s, want FORBIDDEN", resp.Raw)
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
