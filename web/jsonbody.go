package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

// jsonProblem words what is wrong with a request's JSON body for the
// script's author. encoding/json's own text names edge's Go types
// ("cannot unmarshal number into Go struct field createStreamRequest.title
// of type string"), which are no part of the API.
func jsonProblem(err error, into any) string {
	if name, ok := unknownField(err); ok {
		return fmt.Sprintf("%s: not a field of this call, which takes %s", name, strings.Join(jsonFields(into), ", "))
	}
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

// unknownField reads the name from encoding/json's error for a field the
// target has not (DisallowUnknownFields): its only error without a type of
// its own, worded the same since the option came (Go 1.10).
func unknownField(err error) (string, bool) {
	quoted, ok := strings.CutPrefix(err.Error(), "json: unknown field ")
	if !ok {
		return "", false
	}
	name, uerr := strconv.Unquote(quoted)
	return name, uerr == nil
}

// jsonFields lists the JSON names of the fields a request struct takes.
func jsonFields(into any) []string {
	t := reflect.TypeOf(into)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var names []string
	for i := 0; t.Kind() == reflect.Struct && i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}
