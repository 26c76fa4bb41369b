package scaler

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sqlRows is the part of a query's result set singleNumber reads; postgresql (pgx) and mysql
// (database/sql) each adapt theirs.
type sqlRows interface {
	Columns() []string
	Next() bool
	Values() ([]any, error) // the current row
	Err() error
}

// singleNumber is the value of a SQL trigger's query: exactly one row of one column holding a
// finite number (or text that reads as one, as KEDA's scan into a float accepts). Anything else
// is an error that says what the query returned instead. A driver's error is checked first:
// pgx reports a failed query only once the rows are read, with no columns.
func singleNumber(rows sqlRows) (float64, error) {
	hasRow := rows.Next()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("query: %w", err)
	}
	if cols := rows.Columns(); len(cols) != 1 {
		return 0, fmt.Errorf("query returned %d columns (%s), want 1", len(cols), strings.Join(cols, ", "))
	}
	if !hasRow {
		return 0, errors.New("query returned no row")
	}
	values, err := rows.Values()
	if err != nil {
		return 0, fmt.Errorf("query: %w", err)
	}
	n, err := sqlNumber(values[0])
	if err != nil {
		return 0, err
	}
	if rows.Next() {
		return 0, errors.New("query returned more than one row, want 1")
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("query: %w", err)
	}
	return n, nil
}

// sqlNumber converts one column value as a driver returns it.
func sqlNumber(v any) (float64, error) {
	var n float64
	switch x := v.(type) {
	case nil:
		return 0, errors.New("query returned NULL, not a number")
	case int64:
		n = float64(x)
	case int32:
		n = float64(x)
	case int16:
		n = float64(x)
	case int8:
		n = float64(x)
	case int:
		n = float64(x)
	case uint64:
		n = float64(x)
	case uint32:
		n = float64(x)
	case float64:
		n = x
	case float32:
		n = float64(x)
	case []byte:
		return sqlText(string(x))
	case string:
		return sqlText(x)
	case driver.Valuer: // pgx's numeric
		dv, err := x.Value()
		if err != nil {
			return 0, fmt.Errorf("query returned a %T that could not be read: %w", v, err)
		}
		return sqlNumber(dv)
	default:
		return 0, fmt.Errorf("query returned a %T, not a number", v)
	}
	return finite(n)
}

// sqlText reads a number sent as text (MySQL's text protocol, PostgreSQL text columns).
func sqlText(s string) (float64, error) {
	n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		if len(s) > 32 {
			s = s[:32] + "..."
		}
		return 0, fmt.Errorf("query returned text %q, not a number", s)
	}
	return finite(n)
}

func finite(n float64) (float64, error) {
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, fmt.Errorf("query returned %v, not a finite number", n)
	}
	return n, nil
}
