package access

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/partsmarket/gateway/store"
)

// Messages of refusals: no data in them.
const (
	msgForbidden       = "not allowed to access this field"
	msgSignIn          = "sign in to access this field"
	msgForbiddenArg    = "not allowed to use this argument"
	msgSignInForArg    = "sign in to use this argument"
	msgAnalystReadOnly = "analysts do not change marketplace data"
)

// forbidden returns the FORBIDDEN error of a denied field.
func forbidden() *store.Error {
	return &store.Error{Code: store.EFORBIDDEN, Message: msgForbidden}
}

// Refuse returns the error of a field or mutation p may not use:
// UNAUTHENTICATED when p is anonymous (signing in could grant it), FORBIDDEN
// otherwise. It is the refusal of the directives and of the resolvers that
// need a signed-in caller.
func Refuse(p Principal) *store.Error {
	if p.Anonymous() {
		return &store.Error{Code: store.EUNAUTHENTICATED, Message: msgSignIn}
	}
	return forbidden()
}

// HasRole implements @hasRole(roles:). On a field it calls next when the
// principal is an ADMIN or has one of roles, and otherwise returns nil and
// Refuse's error without calling next. On an input field (obj is then the
// raw input object) it lets anyone leave the field unset (null or "") and
// refuses a value from anyone else with Refuse's code, the argument's path
// in the error's field (e.g. "filter.email") and the enclosing field's path:
// a filter must not find what its field would hide.
func HasRole(ctx context.Context, obj any, next graphql.Resolver, roles []Role) (any, error) {
	p := FromContext(ctx)
	if p.Role == RoleAdmin || (p.Role != "" && slices.Contains(roles, p.Role)) {
		return next(ctx)
	}
	if _, input := obj.(map[string]any); input {
		return refuseInput(ctx, p, next)
	}
	return nil, Refuse(p)
}

// refuseInput is HasRole's refusal of an input field: next (the field's
// unmarshalling) runs to tell an unset value from a given one.
func refuseInput(ctx context.Context, p Principal, next graphql.Resolver) (any, error) {
	v, err := next(ctx)
	if err != nil || unset(v) {
		return v, err
	}
	e := Refuse(p)
	e.Message = msgForbiddenArg
	if e.Code == store.EUNAUTHENTICATED {
		e.Message = msgSignInForArg
	}
	out := &gqlerror.Error{Message: e.Message, Err: e}
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		out.Path = fc.Path()
		arg := graphql.GetPath(ctx)
		if len(arg) > len(out.Path) {
			arg = arg[len(out.Path):]
		}
		e.Field = strings.TrimPrefix(arg.String(), ".")
	}
	return nil, out
}

// unset reports whether an input value says nothing: null, or an empty
// string (which the store treats as unset).
func unset(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case *string:
		return x == nil || *x == ""
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// Owner implements @owner: it calls next for an ADMIN, an ANALYST or the
// SELLER owning obj, returns nil and Refuse's error without calling next for
// anyone else, and returns an internal (non-store) error when obj does not
// implement Owned.
func Owner(ctx context.Context, obj any, next graphql.Resolver) (any, error) {
	owner, err := ownerOf(obj, "@owner")
	if err != nil {
		return nil, err
	}
	p := FromContext(ctx)
	if p.Role == RoleAdmin || p.Role == RoleAnalyst || (p.Role == RoleSeller && p.Manages(owner)) {
		return next(ctx)
	}
	return nil, Refuse(p)
}

// Pii implements @pii(mask:): it returns next's value to an ADMIN or the
// SELLER owning obj, next's value masked to an ANALYST, and nil with
// Refuse's error (next not called) to anyone else; it returns an internal
// (non-store) error when a SELLER asks and obj does not implement Owned, or
// when an analyst's value is neither a string nor a *string. An ADMIN's read
// is recorded in the operation's PIIReads, for the audit log.
func Pii(ctx context.Context, obj any, next graphql.Resolver, mask PiiMask) (any, error) {
	p := FromContext(ctx)
	switch p.Role {
	case RoleAdmin:
		v, err := next(ctx)
		if err == nil {
			notePIIRead(ctx, obj)
		}
		return v, err
	case RoleSeller:
		owner, err := ownerOf(obj, "@pii")
		if err != nil {
			return nil, err
		}
		if p.Manages(owner) {
			return next(ctx)
		}
	case RoleAnalyst:
		v, err := next(ctx)
		if err != nil {
			// Never hand an analyst a partial, unmasked value.
			return nil, err
		}
		return maskValue(mask, v)
	}
	return nil, Refuse(p)
}

// ownerOf returns the owning seller of obj, or an internal error naming the
// directive when obj has none (a schema or model binding mistake).
func ownerOf(obj any, directive string) (string, error) {
	o, ok := obj.(Owned)
	if !ok {
		return "", fmt.Errorf("access: %s on a field of %T, which does not implement access.Owned", directive, obj)
	}
	if rv := reflect.ValueOf(o); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return "", fmt.Errorf("access: %s on a field of a nil %T", directive, obj)
	}
	return o.OwnerID(), nil
}

// maskValue masks a string or *string (or a named type of either) and keeps
// its Go type; nil stays nil, and a pointed-to value is copied, never changed.
func maskValue(kind PiiMask, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return Mask(kind, x), nil
	case *string:
		if x == nil {
			return x, nil
		}
		m := Mask(kind, *x)
		return &m, nil
	}
	rv := reflect.ValueOf(v)
	switch {
	case rv.Kind() == reflect.String:
		out := reflect.New(rv.Type()).Elem()
		out.SetString(Mask(kind, rv.String()))
		return out.Interface(), nil
	case rv.Kind() == reflect.Pointer && rv.Type().Elem().Kind() == reflect.String:
		if rv.IsNil() {
			return v, nil
		}
		out := reflect.New(rv.Type().Elem())
		out.Elem().SetString(Mask(kind, rv.Elem().String()))
		return out.Interface(), nil
	}
	return nil, fmt.Errorf("access: @pii on a field of type %T, which cannot be masked", v)
}
