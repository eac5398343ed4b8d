package resolvers

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"

	"github.com/partsmarket/gateway/graph/model"
	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/internal/loaders"
	"github.com/partsmarket/gateway/store"
)

// Page sizes of connections.
const (
	defaultFirst = 20
	maxFirst     = 100
)

// pageArgs checks the paging arguments of a connection: first and after
// to page forwards, last and before to page backwards (first and last
// together are refused). EINVALID names the argument at fault.
func pageArgs(first *int, after *string, last *int, before *string) (store.PageArgs, error) {
	p := store.PageArgs{Limit: defaultFirst}
	size, arg := first, "first"
	if last != nil {
		if first != nil {
			return p, store.Invalid("last", "cannot be combined with first")
		}
		size, arg, p.Last = last, "last", true
	}
	if size != nil {
		if *size < 1 || *size > maxFirst {
			return p, store.Invalid(arg, "must be between 1 and 100")
		}
		p.Limit = *size
	}
	var err error
	if p.After, err = cursorArg("after", after); err != nil {
		return p, err
	}
	p.Before, err = cursorArg("before", before)
	return p, err
}

// cursorArg decodes the cursor given as argument arg, nil when it is unset
// or empty.
func cursorArg(arg string, s *string) (*store.Cursor, error) {
	if s == nil || *s == "" {
		return nil, nil
	}
	return store.DecodeCursorArg(arg, *s)
}

// pageInfo describes a page for Relay.
func pageInfo[T any](p store.Page[T]) *model.PageInfo {
	info := &model.PageInfo{HasNextPage: p.HasNextPage, HasPreviousPage: p.HasPreviousPage}
	if n := len(p.Cursors); n > 0 {
		info.StartCursor, info.EndCursor = &p.Cursors[0], &p.Cursors[n-1]
	}
	return info
}

// edges pairs each item of a page with its cursor.
func edges[T, E any](p store.Page[T], edge func(cursor string, node T) E) []E {
	out := make([]E, len(p.Items))
	for i, item := range p.Items {
		out[i] = edge(p.Cursors[i], item)
	}
	return out
}

// announce tells the request's loaders, if any, about the rows of a page
// (see loaders.Loader.Expect): what the rows point at is then read in one
// batch per kind when the first row asks for it.
func announce(ctx context.Context, read func(*loaders.Loaders)) {
	if l, err := loaders.For(ctx); err == nil {
		read(l)
	}
}

// load reads key through one of the request's loaders.
func load[V any](ctx context.Context, pick func(*loaders.Loaders) *loaders.Loader[V], key string) (V, error) {
	l, err := loaders.For(ctx)
	if err != nil {
		var zero V
		return zero, err
	}
	return pick(l).Load(ctx, key)()
}

func sellerLoader(l *loaders.Loaders) *loaders.Loader[*store.Seller]              { return l.Seller }
func listingLoader(l *loaders.Loaders) *loaders.Loader[*store.Listing]            { return l.Listing }
func contactsLoader(l *loaders.Loaders) *loaders.Loader[[]*store.SellerContact]   { return l.Contacts }
func locationsLoader(l *loaders.Loaders) *loaders.Loader[[]*store.SellerLocation] { return l.Locations }
func notificationSettingsLoader(l *loaders.Loaders) *loaders.Loader[*store.NotificationSettings] {
	return l.NotificationSettings
}
func statusChangesLoader(l *loaders.Loaders) *loaders.Loader[[]*store.LeadStatusChange] {
	return l.StatusChanges
}
func mediaLoader(l *loaders.Loaders) *loaders.Loader[[]*store.Media] { return l.Media }

// fail returns err for a resolver; a list of invalid fields becomes one error
// per field, all on the resolver's path.
func fail(ctx context.Context, err error) error {
	var fe store.FieldErrors
	if errors.As(err, &fe) && len(fe) > 0 {
		for _, e := range fe[:len(fe)-1] {
			graphql.AddError(ctx, e)
		}
		return fe[len(fe)-1]
	}
	return err
}

// inInput puts an invalid-field error of the store under the mutation's
// "input" argument ("sku" becomes "input.sku").
func inInput(err error) error {
	var e *store.Error
	if errors.As(err, &e) && e.Code == store.EINVALID && e.Field != "" {
		return store.Invalid("input."+e.Field, e.Message)
	}
	return err
}

// signedIn returns the caller when it may have private rows of its own to
// read (a seller, an admin or an analyst): UNAUTHENTICATED for anonymous
// callers, FORBIDDEN for a USER, who has none.
func signedIn(ctx context.Context) (access.Principal, error) {
	p := access.FromContext(ctx)
	if p.Anonymous() || p.Role == access.RoleUser {
		return p, access.Refuse(p)
	}
	return p, nil
}

// scope returns the rows the caller may see.
func scope(ctx context.Context) store.Scope { return access.FromContext(ctx).Scope() }

// deref returns *p, or the zero value for nil.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// errNotConfigured answers a field whose dependency (live updates, media
// storage) this gateway was wired without.
var errNotConfigured = store.Errorf(store.EINTERNAL, "not configured on this gateway")
