package store

import "context"

// SearchesOrdered reports whether st's searches read their newest matches
// from the ordered search index, for the tests of both search paths.
func SearchesOrdered(ctx context.Context, st *Store) bool {
	return st.searchIndex.ordered(ctx, st.db)
}
