package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/partsmarket/gateway/store"
)

// Error codes of the HTTP layer, beyond the store's.
const (
	codeBadRequest      = "BAD_REQUEST"
	codePayloadTooLarge = "PAYLOAD_TOO_LARGE"
)

// presentError is the one place where an error becomes what a caller sees:
// a *store.Error shows its code, message and field; an unreachable database
// or a request out of time is SERVICE_UNAVAILABLE (see unavailable); errors gqlgen made about
// the request (parse, validation, variables) keep their code; anything else,
// a resolver's database error included, is logged with the request id and
// shown as an internal error, so SQL text and personal data never reach a
// caller.
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		out := graphql.DefaultErrorPresenter(ctx, err)
		var se *store.Error
		var ge *gqlerror.Error
		switch {
		case errors.As(err, &se):
			out.Message = se.Message
			out.Extensions = map[string]any{"code": se.Code}
			if se.Field != "" {
				out.Extensions["field"] = se.Field
			}
			if se.Code == store.EINTERNAL {
				out.Message = "internal server error"
			}
		case unavailable(err):
			presentUnavailable(ctx, log, err, out)
		case errors.As(err, &ge) && ge.Err == nil:
			// gqlgen's and gqlparser's own errors about the request: parse,
			// validation, variables, operation selection. They keep their
			// code (or get BAD_REQUEST) but never quote what was sent.
			if out.Extensions["code"] == nil {
				out.Extensions = map[string]any{"code": codeBadRequest}
			}
			if len(out.Path) == 2 && out.Path[0] == ast.PathName("variable") {
				out.Message = fmt.Sprintf("invalid value for variable $%v", out.Path[1])
			}
		default:
			log.ErrorContext(ctx, "internal error", "request_id", RequestID(ctx), "error", err.Error())
			out.Message = "internal server error"
			out.Extensions = map[string]any{"code": store.EINTERNAL}
		}
		return out
	}
}

// recoverPanic logs a resolver panic without its value's data and turns it
// into an internal error.
func recoverPanic(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "request_id", RequestID(ctx), "panic_type", fmt.Sprintf("%T", p))
		return errors.New("panic")
	}
}
