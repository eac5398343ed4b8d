package access

import (
	"context"
	"fmt"
	"reflect"
	"slices"

	"github.com/99designs/gqlgen/graphql"

	"github.com/partsmarket/gateway/store"
)

// msgForbidden is the message of every FORBIDDEN error: no data in it.
const msgForbidden = "not allowed to access this field"

// forbidden returns the FORBIDDEN error of a denied field.
func forbidden() *store.Error {
	return &store.Error{Code: store.EFORBIDDEN, Message: msgForbidden}
}

// HasRole implements @hasRole(roles:): it calls next when the principal is an
// ADMIN or has one of roles, and otherwise returns nil and a FORBIDDEN error
// without calling next.
func HasRole(ctx context.Context, obj any, next graphql.Resolver, roles []Role) (any, error) {
	p := FromContext(ctx)
	if p.Role == RoleAdmin || (p.Role != "" && slices.Contains(roles, p.Role)) {
		return next(ctx)
	}
	return nil, forbidden()
}

// Owner implements @owner: it calls next for an ADMIN, an ANALYST or the
// SELLER owning obj, returns nil and a FORBIDDEN error without calling next
// for anyone else, and returns an internal (non-store) error when obj does not
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
	return nil, forbidden()
}

// Pii implements @pii(mask:): it returns next's value to an ADMIN or the
// SELLER owning obj, next's value masked to an ANALYST, and nil with a
// FORBIDDEN error (next not called) to anyone else; it returns an internal
// (non-store) error when a SELLER asks and obj does not implement Owned, or
// when an analyst's value is neither a string nor a *string. An ADMIN's read
// of a lead's field is recorded in the operation's LeadReads, for the audit
// log.
func Pii(ctx context.Context, obj any, next graphql.Resolver, mask PiiMask) (any, error) {
	p := FromContext(ctx)
	switch p.Role {
	case RoleAdmin:
		v, err := next(ctx)
		if err == nil {
			noteLeadRead(ctx, obj)
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
	return nil, forbidden()
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
