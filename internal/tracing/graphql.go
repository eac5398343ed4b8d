package tracing

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/partsmarket/gateway/internal/limits"
)

// CostAttribute is the attribute holding an operation's requested cost
// (limits.Extension's, computed before execution).
const CostAttribute = attribute.Key("graphql.operation.cost")

// Operations is the gqlgen extension that gives each GraphQL operation's
// execution a span, child of the request's: named after the operation's
// type and name, with both and its requested cost as attributes. The
// statements its resolvers send are its children. Register it before the
// response cache, so that answers from the cache have their span too.
type Operations struct {
	// Provider makes the spans; nil: the extension does nothing (rather
	// leave it out).
	Provider *Provider
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = Operations{}

// ExtensionName names the extension for gqlgen.
func (Operations) ExtensionName() string { return "Tracing" }

// Validate accepts any schema.
func (Operations) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse runs the operation's execution (for a subscription,
// that of each event) inside its span.
func (o Operations) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if o.Provider == nil || !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	op := graphql.GetOperationContext(ctx)
	if op.Operation == nil {
		return next(ctx)
	}
	kind := string(op.Operation.Operation)
	attrs := []attribute.KeyValue{semconv.GraphQLOperationTypeKey.String(kind)}
	name := kind
	if op.Operation.Name != "" {
		name += " " + op.Operation.Name
		attrs = append(attrs, semconv.GraphQLOperationName(op.Operation.Name))
	}
	if cost, ok := limits.RequestedCost(op); ok {
		attrs = append(attrs, CostAttribute.Int(cost))
	}
	ctx, span := o.Provider.tracer().Start(ctx, name, trace.WithAttributes(attrs...))
	defer span.End()
	resp := next(ctx)
	if resp != nil && len(resp.Errors) > 0 {
		span.SetStatus(codes.Error, "the response has errors")
		if code, _ := resp.Errors[0].Extensions["code"].(string); code != "" {
			span.SetAttributes(attribute.String("graphql.error.code", code))
		}
	}
	return resp
}
