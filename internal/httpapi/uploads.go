package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
)

// uploadMaxMemory is how much of a multipart upload is held in memory;
// larger files go to a temporary file (deleted when the request ends).
const uploadMaxMemory = 1 << 20

// uploadShape checks a multipart upload (GraphQL multipart request spec)
// before it is read, and reports whether it may go on. Its length must be
// declared (411 otherwise: a body of unknown length would be read before
// its size is known) and at most max (413 otherwise); the body is also cut
// at max.
func uploadShape(w http.ResponseWriter, r *http.Request, max int64) bool {
	switch {
	case r.ContentLength < 0:
		writeError(w, r, http.StatusLengthRequired, codeBadRequest, "an upload needs a Content-Length")
		return false
	case r.ContentLength > max:
		writeError(w, r, http.StatusRequestEntityTooLarge, codePayloadTooLarge, "upload is too large")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, max)
	return true
}

// preflighted reports whether a request carries a non-empty
// GraphQL-Require-Preflight or Apollo-Require-Preflight header. A browser
// sends a custom header cross-origin only after a CORS preflight, so a
// request without one may be a cross-site form post.
func preflighted(r *http.Request) bool {
	return r.Header.Get("GraphQL-Require-Preflight") != "" || r.Header.Get("Apollo-Require-Preflight") != ""
}

// uploadTransport serves GraphQL multipart requests (uploads) in place of
// gqlgen's transport.MultipartForm, which reads the operations part without
// a bound and panics on a map path that does not fit the variables. Every
// malformed request is a 400 BAD_REQUEST (413 PAYLOAD_TOO_LARGE for an
// operations or map part over the JSON limit), before anything runs.
// withRequestShape has checked the preflight header and the body's length.
type uploadTransport struct {
	// maxJSON bounds the operations part and the map part, as the body of a
	// JSON request.
	maxJSON int64
}

var _ graphql.Transport = uploadTransport{}

// Supports accepts multipart/form-data POSTs.
func (uploadTransport) Supports(r *http.Request) bool {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && r.Method == http.MethodPost && r.Header.Get("Upgrade") == "" && mediaType == "multipart/form-data"
}

// Do reads the operations, map and file parts, puts the files in the
// variables, and runs the operation.
func (t uploadTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	params, cleanup, status, code, msg := t.read(r)
	defer cleanup()
	if status != 0 {
		writeError(w, r, status, code, msg)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	execute(w, r, exec, params, nil)
}

// read reads a multipart request. On failure it returns the HTTP status,
// code and message to answer with. cleanup removes the temporary files and
// must always be called.
func (t uploadTransport) read(r *http.Request) (params *graphql.RawParams, cleanup func(), status int, code, msg string) {
	var temps []*os.File
	cleanup = func() {
		for _, f := range temps {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}
	bad := func(m string) (*graphql.RawParams, func(), int, string, string) {
		return nil, cleanup, http.StatusBadRequest, codeBadRequest, m
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return bad("the body is not a multipart form")
	}
	params = &graphql.RawParams{}
	uploads := map[string][]string{}
	for i, p := range []struct {
		name string
		into any
	}{{"operations", params}, {"map", &uploads}} {
		part, err := mr.NextPart()
		if err != nil || part.FormName() != p.name {
			return bad("part " + strconv.Itoa(i+1) + " must be " + p.name)
		}
		body, err := io.ReadAll(io.LimitReader(part, t.maxJSON+1))
		switch {
		case err != nil:
			return bad("could not read the " + p.name + " part")
		case int64(len(body)) > t.maxJSON:
			return nil, cleanup, http.StatusRequestEntityTooLarge, codePayloadTooLarge, "the " + p.name + " part is too large"
		case !jsonObject(body):
			return bad("the " + p.name + " part is not a JSON object")
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if dec.Decode(p.into) != nil {
			return bad("the " + p.name + " part does not have the expected shape")
		}
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return bad("a file part could not be read")
		}
		paths := uploads[part.FormName()]
		if len(paths) == 0 {
			return bad("a file part is not named in the map")
		}
		delete(uploads, part.FormName())
		files, tmp, err := readFile(part, len(paths), r.ContentLength)
		if tmp != nil {
			temps = append(temps, tmp)
		}
		if err != nil {
			return bad("a file part could not be read")
		}
		for i, path := range paths {
			if !placeUpload(params.Variables, path, files[i]) {
				return bad("the map names a path that is not a null value of the variables")
			}
		}
	}
	if len(uploads) > 0 {
		return bad("the map names a file that was not sent")
	}
	return params, cleanup, 0, "", ""
}

// readFile reads one file part as n uploads (one per map path, each with its
// own reader): in memory when the whole request is small, otherwise in a
// temporary file, which it returns for removal.
func readFile(part *multipart.Part, n int, requestLength int64) ([]graphql.Upload, *os.File, error) {
	var open func() io.ReadSeeker
	var size int64
	var tmp *os.File
	if requestLength < uploadMaxMemory {
		data, err := io.ReadAll(part)
		if err != nil {
			return nil, nil, err
		}
		open, size = func() io.ReadSeeker { return bytes.NewReader(data) }, int64(len(data))
	} else {
		var err error
		if tmp, err = os.CreateTemp("", "gateway-upload-"); err != nil {
			return nil, nil, err
		}
		if size, err = io.Copy(tmp, part); err != nil {
			return nil, tmp, err
		}
		open = func() io.ReadSeeker { return io.NewSectionReader(tmp, 0, size) }
	}
	files := make([]graphql.Upload, n)
	for i := range files {
		files[i] = graphql.Upload{File: open(), Size: size, Filename: part.FileName(), ContentType: part.Header.Get("Content-Type")}
	}
	return files, tmp, nil
}

// placeUpload puts upload at path ("variables.input.file",
// "variables.files.2") in vars and reports whether path names a null value
// there: an object key present or absent, or a list index in range. Any
// other path (not under variables, through a value that is neither an object
// nor a list, an index out of range or not a number) is refused.
func placeUpload(vars map[string]any, path string, upload graphql.Upload) bool {
	parts := strings.Split(path, ".")
	if len(parts) < 2 || parts[0] != "variables" || vars == nil {
		return false
	}
	var cur any = vars
	for i, p := range parts[1:] {
		last := i == len(parts)-2
		switch c := cur.(type) {
		case map[string]any:
			if last {
				if c[p] != nil {
					return false
				}
				c[p] = upload
				return true
			}
			cur = c[p]
		case []any:
			idx, err := strconv.Atoi(p)
			if err != nil || idx < 0 || idx >= len(c) {
				return false
			}
			if last {
				if c[idx] != nil {
					return false
				}
				c[idx] = upload
				return true
			}
			cur = c[idx]
		default:
			return false
		}
	}
	return false
}
