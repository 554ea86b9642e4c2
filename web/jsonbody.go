package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
)

// jsonProblem words what is wrong with a request's JSON body for the
// script's author. encoding/json's own text names edge's Go types
// ("cannot unmarshal number into Go struct field createStreamRequest.title
// of type string"), which are no part of the API.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return fmt.Sprintf("%s: want %s, not a JSON %s", typeErr.Field, jsonKind(typeErr.Type), typeErr.Value)
	case errors.As(err, &typeErr):
		return "body: want a JSON object, not a JSON " + typeErr.Value
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("body is not valid JSON (at byte %d)", syntaxErr.Offset)
	case errors.As(err, &tooLarge):
		return fmt.Sprintf("body is larger than %d bytes", tooLarge.Limit)
	case errors.Is(err, io.EOF):
		return "body is empty: send a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "body ends in the middle of its JSON"
	}
	return "body is not a JSON object of the expected shape"
}

// jsonKind names a field's type as JSON has it.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return "an object"
}
