package httpapi

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Media types of GraphQL responses.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// jsonTransport serves GraphQL over HTTP with JSON: GET (queries only) and
// POST with an application/json body, as the GraphQL over HTTP
// specification asks. It differs from gqlgen's GET and POST transports in
// the request errors (the operation was not run: parse, validation,
// variables, limits): their response has no data entry, and their status
// is 400 with application/graphql-response+json, but 200 with
// application/json, whose clients read errors from the body only. A
// request without a query (nor a persisted query's hash) is not a GraphQL
// request: 400 BAD_REQUEST whatever the Accept header. withRequestShape
// has refused malformed bodies and mutations over GET before.
type jsonTransport struct{}

var _ graphql.Transport = jsonTransport{}

// Supports accepts GETs and JSON POSTs that are not websocket upgrades.
func (jsonTransport) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return false
	}
	if r.Method == http.MethodGet {
		return true
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && r.Method == http.MethodPost && mediaType == mediaJSON
}

// Do reads the request's parameters and runs its operation.
func (jsonTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	params := &graphql.RawParams{Headers: r.Header}
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		params.Query, params.OperationName = q.Get("query"), q.Get("operationName")
		for _, p := range []struct {
			name string
			into any
		}{{"variables", &params.Variables}, {"extensions", &params.Extensions}} {
			if v := q.Get(p.name); v != "" && decodeJSON([]byte(v), p.into) != nil {
				writeError(w, r, http.StatusBadRequest, codeBadRequest, p.name+" must be a JSON object")
				return
			}
		}
	} else {
		var body bytes.Buffer
		if _, err := body.ReadFrom(r.Body); err != nil || decodeJSON(body.Bytes(), params) != nil {
			writeError(w, r, http.StatusBadRequest, codeBadRequest, "request body is not a GraphQL request")
			return
		}
	}
	if params.Query == "" && params.Extensions["persistedQuery"] == nil {
		writeError(w, r, http.StatusBadRequest, codeBadRequest, "the request has no query")
		return
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	execute(w, r, exec, params, func(rc *graphql.OperationContext) bool {
		if r.Method != http.MethodGet || rc.Operation.Operation == ast.Query {
			return false
		}
		// withRequestShape refuses these before; a persisted query's
		// document is only known here.
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, r, http.StatusMethodNotAllowed, codeBadRequest, "mutations are sent with POST")
		return true
	})
}

// execute runs the operation of params and writes its response, or its
// request errors (see writeRequestErrors). refused, when not nil, may answer
// instead once the operation is known: it returns true when it did.
func execute(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, params *graphql.RawParams,
	refused func(*graphql.OperationContext) bool) {
	mediaType := responseMediaType(r)
	w.Header().Set("Content-Type", mediaType)
	rc, errs := exec.CreateOperationContext(r.Context(), params)
	if errs != nil {
		writeRequestErrors(w, mediaType, exec.DispatchError(graphql.WithOperationContext(r.Context(), rc), errs), errs)
		return
	}
	if refused != nil && refused(rc) {
		return
	}
	responses, ctx := exec.DispatchOperation(r.Context(), rc)
	writeJSON(w, responses(ctx))
}

// writeRequestErrors writes the response to a request whose operation was
// not run, without a data entry: 400 with application/graphql-response+json
// when the request is at fault (errcode.KindProtocol: parse, validation,
// variables, limits), else (and always with application/json) 200.
func writeRequestErrors(w http.ResponseWriter, mediaType string, resp *graphql.Response, errs gqlerror.List) {
	if mediaType == mediaGraphQLResponse && errcode.GetErrorKind(errs) == errcode.KindProtocol {
		w.WriteHeader(http.StatusBadRequest)
	}
	writeJSON(w, requestErrorResponse{Errors: resp.Errors, Extensions: resp.Extensions})
}

// requestErrorResponse is the body of a request error: errors (and
// extensions such as the cost), no data.
type requestErrorResponse struct {
	Errors     gqlerror.List  `json:"errors"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// writeJSON writes v as the response body.
func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a resolver's value that cannot be marshalled gets here.
		b = []byte(`{"errors":[{"message":"internal server error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`)
	}
	_, _ = w.Write(b)
}

// decodeJSON decodes one JSON value of b into v, keeping numbers exact.
func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// responseMediaType is the media type of the response to r, as gqlgen's
// transports choose it: the first of application/json and
// application/graphql-response+json that the Accept header names,
// application/json for no Accept header or a wildcard, and
// application/graphql-response+json when it names neither.
func responseMediaType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return mediaJSON
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", mediaJSON:
			return mediaJSON
		case mediaGraphQLResponse:
			return mediaGraphQLResponse
		}
	}
	return mediaGraphQLResponse
}
