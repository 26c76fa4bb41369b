package scaler

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	pgserver "ebb.dev/test/servers/postgres"
)

// pgPassword has a space, a quote and a backslash: the connection string built from the parts
// must quote it.
const pgPassword = `it's a s3cret\pw`

// pgFixture is a server with a database app, a table jobs and a role reader that may read it.
type pgFixture struct {
	srv *pgserver.Server
}

func newPGFixture(t testing.TB) pgFixture {
	t.Helper()
	srv := pgserver.StartT(t, pgserver.Options{Password: "admin-pw"})
	quoted := strings.ReplaceAll(pgPassword, "'", "''")
	if err := srv.SQL(context.Background(), "postgres", "CREATE DATABASE app; CREATE ROLE reader LOGIN PASSWORD '"+quoted+"';"); err != nil {
		t.Fatal(err)
	}
	if err := srv.SQL(context.Background(), "app", "CREATE TABLE jobs (id serial, state text); GRANT SELECT ON jobs TO reader;"); err != nil {
		t.Fatal(err)
	}
	return pgFixture{srv: srv}
}

func (f pgFixture) sql(t testing.TB, statements string) {
	t.Helper()
	if err := f.srv.SQL(context.Background(), "app", statements); err != nil {
		t.Fatal(err)
	}
}

// meta is the trigger's metadata for the parts of a connection to app as reader, plus kv.
func (f pgFixture) meta(kv ...string) map[string]string {
	m := map[string]string{"host": "127.0.0.1", "port": strconv.Itoa(f.srv.Port), "userName": "reader", "dbName": "app",
		"sslmode": "disable", "targetQueryValue": "1"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

var pgPasswordAuth = map[string]string{"password": pgPassword}

func TestPostgreSQLFollowsTheQuery(t *testing.T) {
	f := newPGFixture(t)
	insert := func(state string, n int) func() {
		return func() {
			f.sql(t, "INSERT INTO jobs (state) SELECT '"+state+"' FROM generate_series(1, "+strconv.Itoa(n)+")")
		}
	}
	meta := f.meta("query", "SELECT ceil(count(*)::decimal / 2) FROM jobs WHERE state = 'queued'", "activationTargetQueryValue", "2")
	s := build(t, "postgresql", meta, pgPasswordAuth, Deps{})
	m := parse(t, "postgresql", meta, pgPasswordAuth)
	runSteps(t, s, []step{
		{"empty table", func() {}, 0},
		{"three queued", insert("queued", 3), 2},
		{"running jobs do not count", insert("running", 5), 2},
	})
	activeAfter(t, s, m, step{"four queued is the activation value", insert("queued", 1), 2}, false)
	activeAfter(t, s, m, step{"five queued is above it", insert("queued", 1), 3}, true)
	runSteps(t, s, []step{{"all done", func() { f.sql(t, "UPDATE jobs SET state = 'done'") }, 0}})
}

func TestPostgreSQLQueryResults(t *testing.T) {
	f := newPGFixture(t)
	f.sql(t, "INSERT INTO jobs (state) VALUES ('queued'), ('queued'), ('running')")
	runSQLQueries(t, "postgresql", func(q string) map[string]string { return f.meta("query", q) }, pgPasswordAuth, map[string]sqlQueryCase{
		"a count":                   {query: "SELECT count(*) FROM jobs", want: 3},
		"a numeric":                 {query: "SELECT count(*)::decimal / 4 FROM jobs", want: 0.75},
		"a float":                   {query: "SELECT 2.5::float8", want: 2.5},
		"text holding a number":     {query: "SELECT '12'::text", want: 12},
		"no row":                    {query: "SELECT count(*) FROM jobs GROUP BY state HAVING count(*) > 5", err: "postgresql: query returned no row"},
		"several rows":              {query: "SELECT count(*) FROM jobs GROUP BY state", err: "postgresql: query returned more than one row, want 1"},
		"several columns":           {query: "SELECT state, count(*) FROM jobs GROUP BY state", err: "postgresql: query returned 2 columns (state, count), want 1"},
		"text that is not a number": {query: "SELECT min(state) FROM jobs", err: `postgresql: query returned text "queued", not a number`},
		"NULL":                      {query: "SELECT max(id) FROM jobs WHERE false", err: "postgresql: query returned NULL, not a number"},
		"a bool":                    {query: "SELECT count(*) > 1 FROM jobs", err: "postgresql: query returned a bool, not a number"},
		"infinity":                  {query: "SELECT 'infinity'::float8", err: "postgresql: query returned +Inf, not a finite number"},
		"a missing table":           {query: "SELECT count(*) FROM nope", err: `postgresql: query: ERROR: relation "nope" does not exist (SQLSTATE 42P01)`},
		"no permission":             {query: "SELECT count(*) FROM pg_authid", err: "postgresql: query: ERROR: permission denied for table pg_authid (SQLSTATE 42501)"},
	})
}

func TestPostgreSQLCredentials(t *testing.T) {
	f := newPGFixture(t)
	query := "SELECT count(*) FROM jobs"
	runSQLCredentials(t, "postgresql", map[string]sqlCredentialCase{
		"parts with the password from a TriggerAuthentication": {meta: f.meta("query", query), auth: pgPasswordAuth},
		"connection from a TriggerAuthentication": {meta: map[string]string{"query": query, "targetQueryValue": "1"},
			auth: map[string]string{"connection": f.srv.URL("reader", pgPassword, "app")}},
		"a wrong password": {meta: f.meta("query", query), auth: map[string]string{"password": "wrong-s3cret"},
			err: `password authentication failed for user "reader"`},
		"a password in plain metadata is not used": {meta: f.meta("query", query, "password", pgPassword),
			err: "failed SASL auth"},
	})
}

func TestPostgreSQLPoolsByConnection(t *testing.T) {
	f := newPGFixture(t)
	pool := NewPool()
	query := f.meta("query", "SELECT 1")
	build(t, "postgresql", query, pgPasswordAuth, Deps{Pool: pool})
	build(t, "postgresql", f.meta("query", "SELECT 2", "targetQueryValue", "5"), pgPasswordAuth, Deps{Pool: pool})
	if pool.Len() != 1 {
		t.Errorf("two triggers with one connection: %d pools, want 1", pool.Len())
	}
	build(t, "postgresql", query, map[string]string{"password": "other"}, Deps{Pool: pool})
	if pool.Len() != 2 {
		t.Errorf("another password: %d pools, want 2", pool.Len())
	}
}

func TestPostgreSQLServerStops(t *testing.T) {
	f := newPGFixture(t)
	s := build(t, "postgresql", f.meta("query", "SELECT count(*) FROM jobs"), pgPasswordAuth, Deps{})
	readFailsAfterStop(t, s, f.srv.Stop, "postgresql: query: ")
}

func TestPostgreSQLBadConnection(t *testing.T) {
	tests := map[string]struct {
		meta, auth map[string]string
		err        string
	}{
		"a connection that is no connection string": {meta: map[string]string{"query": "SELECT 1", "targetQueryValue": "1"},
			auth: map[string]string{"connection": "postgres://u:s3cret@db:port/app"},
			err:  "build postgresql: connection: not a PostgreSQL connection string (a postgres:// URL or key=value pairs)"},
		"a port that is no number": {meta: map[string]string{"host": "db", "port": "fivefourthreetwo", "userName": "u", "dbName": "d", "sslmode": "disable", "query": "SELECT 1", "targetQueryValue": "1"},
			auth: map[string]string{"password": "s3cret"},
			err:  "build postgresql: host, port, userName, dbName and sslmode do not make a valid connection string (is port a number, sslmode disable, allow, prefer, require, verify-ca or verify-full?)"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Builtin().Build("postgresql", parse(t, "postgresql", tc.meta, tc.auth), Deps{})
			if diff := cmp.Diff(tc.err, errString(err)); diff != "" {
				t.Errorf("Build error (-want +got):\n%s", diff)
			}
		})
	}
}

func BenchmarkPostgreSQLRead(b *testing.B) {
	f := newPGFixture(b)
	f.sql(b, "INSERT INTO jobs (state) SELECT 'queued' FROM generate_series(1, 100)")
	s := build(b, "postgresql", f.meta("query", "SELECT count(*) FROM jobs WHERE state = 'queued'"), pgPasswordAuth, Deps{})
	benchmarkRead(b, s, 100)
}
