package httpapi

import (
	"context"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/store"
)

// withActor returns ctx carrying p as the audit log's actor: its subject and
// role, the request id and the client's network (store.WithActor truncates
// the address).
func withActor(ctx context.Context, p access.Principal) context.Context {
	return store.WithActor(ctx, store.Actor{ID: p.Subject, Role: string(p.Role), RequestID: RequestID(ctx), IP: ClientIP(ctx)})
}

// auditPIIReads audits an ADMIN's reads of personal data: each operation of
// an ADMIN collects the leads, reports and sellers whose @pii fields it
// resolved (access.PIIReads), and each of its responses writes them, once per
// row, as "<type>.read_pii" events in one statement before the response
// leaves.
// When that write fails the response is replaced by an internal error, so
// that no personal data leaves unaudited.
func auditPIIReads(gql *handler.Server, st *store.Store, log *slog.Logger) {
	gql.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if access.FromContext(ctx).Role == access.RoleAdmin {
			ctx, _ = access.WithPIIReads(ctx)
		}
		return next(ctx)
	})
	gql.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		reads := access.PIIReadsFrom(ctx)
		if resp == nil || reads == nil {
			return resp
		}
		if err := st.AuditPIIReads(ctx, reads.Take()); err != nil {
			log.ErrorContext(ctx, "audit of personal data reads failed; response withheld",
				"request_id", RequestID(ctx), "error", err.Error())
			return &graphql.Response{Errors: gqlerror.List{{Message: "internal server error",
				Extensions: map[string]any{"code": store.EINTERNAL}}}}
		}
		return resp
	})
}
