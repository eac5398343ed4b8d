package store

import (
	"encoding/json"
	"fmt"
	"io"
)

// JSON is a JSON document kept as its encoded bytes: a jsonb column read
// as is and written to a response without decoding.
type JSON json.RawMessage

// MarshalGQL writes the document, or null when there is none.
func (j JSON) MarshalGQL(w io.Writer) {
	if len(j) == 0 {
		_, _ = io.WriteString(w, "null")
		return
	}
	_, _ = w.Write(j)
}

// UnmarshalGQL encodes a JSON input value.
func (j *JSON) UnmarshalGQL(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("not a JSON value: %w", err)
	}
	*j = b
	return nil
}

// Scan reads a json or jsonb column.
func (j *JSON) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j = nil
	case []byte:
		*j = append((*j)[:0], v...)
	case string:
		*j = JSON(v)
	default:
		return fmt.Errorf("store.JSON: cannot scan %T", src)
	}
	return nil
}
