package db

import (
	"database/sql/driver"
	"fmt"

	"golang.org/x/text/cases"
	"modernc.org/sqlite"
)

// edge_fold(text) is text with Unicode case folding (x/text/cases), so a
// title search finds "CAFÉ" for "café": SQLite's own LIKE and lower() fold
// ASCII letters only.
func init() {
	sqlite.MustRegisterDeterministicScalarFunction("edge_fold", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return cases.Fold().String(v), nil
		case nil:
			return nil, nil
		default:
			return nil, fmt.Errorf("edge_fold: want text, got %T", v)
		}
	})
}
