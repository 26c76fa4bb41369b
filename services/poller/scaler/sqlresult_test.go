package scaler

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgtype"
)

// resultSet is a result set held in memory, for singleNumber's rules alone; the postgresql and
// mysql tests run the same rules against real servers.
type resultSet struct {
	columns []string
	rows    [][]any
	err     error // what the driver reports after the last row
	next    int
}

func (r *resultSet) Columns() []string { return r.columns }
func (r *resultSet) Next() bool {
	r.next++
	return r.next <= len(r.rows)
}
func (r *resultSet) Values() ([]any, error) { return r.rows[r.next-1], nil }
func (r *resultSet) Err() error             { return r.err }

func TestSingleNumber(t *testing.T) {
	one := []string{"n"}
	tests := map[string]struct {
		rs   resultSet
		want float64
		err  string
	}{
		"an integer":                  {rs: resultSet{columns: one, rows: [][]any{{int64(7)}}}, want: 7},
		"a float":                     {rs: resultSet{columns: one, rows: [][]any{{2.5}}}, want: 2.5},
		"a numeric":                   {rs: resultSet{columns: one, rows: [][]any{{pgtype.Numeric{Int: big.NewInt(125), Exp: -1, Valid: true}}}}, want: 12.5},
		"text that is a number":       {rs: resultSet{columns: one, rows: [][]any{{[]byte(" 42 ")}}}, want: 42},
		"text that is not a number":   {rs: resultSet{columns: one, rows: [][]any{{"many"}}}, err: `query returned text "many", not a number`},
		"long text is cut":            {rs: resultSet{columns: one, rows: [][]any{{strings.Repeat("x", 40)}}}, err: `query returned text "` + strings.Repeat("x", 32) + `...", not a number`},
		"NULL":                        {rs: resultSet{columns: one, rows: [][]any{{nil}}}, err: "query returned NULL, not a number"},
		"a NULL numeric":              {rs: resultSet{columns: one, rows: [][]any{{pgtype.Numeric{}}}}, err: "query returned NULL, not a number"},
		"not a finite number":         {rs: resultSet{columns: one, rows: [][]any{{"NaN"}}}, err: "query returned NaN, not a finite number"},
		"a bool":                      {rs: resultSet{columns: one, rows: [][]any{{true}}}, err: "query returned a bool, not a number"},
		"a time":                      {rs: resultSet{columns: one, rows: [][]any{{time.Time{}}}}, err: "query returned a time.Time, not a number"},
		"no row":                      {rs: resultSet{columns: one}, err: "query returned no row"},
		"a failed query":              {rs: resultSet{err: errors.New("relation does not exist")}, err: "query: relation does not exist"},
		"two rows":                    {rs: resultSet{columns: one, rows: [][]any{{int64(1)}, {int64(2)}}}, err: "query returned more than one row, want 1"},
		"two columns":                 {rs: resultSet{columns: []string{"a", "b"}, rows: [][]any{{int64(1), int64(2)}}}, err: "query returned 2 columns (a, b), want 1"},
		"an error after the only row": {rs: resultSet{columns: one, rows: [][]any{{int64(1)}}, err: errors.New("connection reset")}, err: "query: connection reset"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := singleNumber(&tc.rs)
			if diff := cmp.Diff(tc.err, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if err == nil && got != tc.want {
				t.Errorf("singleNumber = %v, want %v", got, tc.want)
			}
		})
	}
}

// sqlQueryCase is a SQL trigger's query and what reading it gives: a value, or an error.
type sqlQueryCase struct {
	query string
	want  float64
	err   string
}

// runSQLQueries builds a trigger of kind per case, with meta(query) as its metadata and auth
// as its TriggerAuthentication, all on one pool, and checks each reading.
func runSQLQueries(t *testing.T, kind string, meta func(query string) map[string]string, auth map[string]string, tests map[string]sqlQueryCase) {
	t.Helper()
	pool := NewPool()
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := readOnce(t, build(t, kind, meta(tc.query), auth, Deps{Pool: pool}))
			if diff := cmp.Diff(tc.err, errString(err)); diff != "" {
				t.Errorf("Read error (-want +got):\n%s", diff)
			}
			if err == nil && got != tc.want {
				t.Errorf("Read = %v, want %v", got, tc.want)
			}
		})
	}
}

// sqlCredentialCase is a SQL trigger reading an empty table: its metadata and
// TriggerAuthentication, and a part of the error the read fails with ("" when it succeeds).
type sqlCredentialCase struct {
	meta, auth map[string]string
	err        string
}

// runSQLCredentials reads each case's trigger of kind; no error may quote a password (every
// test password holds "s3cret").
func runSQLCredentials(t *testing.T, kind string, tests map[string]sqlCredentialCase) {
	t.Helper()
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := readOnce(t, build(t, kind, tc.meta, tc.auth, Deps{}))
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("Read: %v", err)
			case tc.err == "" && got != 0:
				t.Errorf("Read = %v, want 0 (an empty table)", got)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("Read = %v, %v; want an error containing %q", got, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error quotes a password: %v", err)
			}
		})
	}
}
