package scaler

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	mariadbserver "ebb.dev/test/servers/mariadb"
)

// myPassword has characters a data source name must escape.
const myPassword = `s3cret@(pw)/x`

// myFixture is a server with a database app, a table jobs and a user reader that may read it.
type myFixture struct {
	srv *mariadbserver.Server
}

func newMyFixture(t testing.TB) myFixture {
	t.Helper()
	f := myFixture{srv: mariadbserver.StartT(t, mariadbserver.Options{})}
	f.sql(t, "CREATE DATABASE app; CREATE TABLE app.jobs (id INT AUTO_INCREMENT PRIMARY KEY, state VARCHAR(16));"+
		"CREATE USER 'reader'@'%' IDENTIFIED BY '"+myPassword+"'; GRANT SELECT ON app.* TO 'reader'@'%';")
	return f
}

func (f myFixture) sql(t testing.TB, statements string) {
	t.Helper()
	if err := f.srv.SQL(context.Background(), statements); err != nil {
		t.Fatal(err)
	}
}

func (f myFixture) insert(t testing.TB, state string, n int) func() {
	return func() {
		f.sql(t, "INSERT INTO app.jobs (state) VALUES "+strings.TrimSuffix(strings.Repeat("('"+state+"'),", n), ","))
	}
}

// meta is the trigger's metadata for the parts of a connection to app as reader, plus kv.
func (f myFixture) meta(kv ...string) map[string]string {
	m := map[string]string{"host": "127.0.0.1", "port": strconv.Itoa(f.srv.Port), "username": "reader", "dbName": "app", "queryValue": "1"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

var myPasswordAuth = map[string]string{"password": myPassword}

func TestMySQLFollowsTheQuery(t *testing.T) {
	f := newMyFixture(t)
	meta := f.meta("query", "SELECT CEIL(COUNT(*) / 2) FROM jobs WHERE state = 'queued'", "activationQueryValue", "2")
	s := build(t, "mysql", meta, myPasswordAuth, Deps{})
	m := parse(t, "mysql", meta, myPasswordAuth)
	runSteps(t, s, []step{
		{"empty table", func() {}, 0},
		{"three queued", f.insert(t, "queued", 3), 2},
		{"running jobs do not count", f.insert(t, "running", 5), 2},
	})
	activeAfter(t, s, m, step{"four queued is the activation value", f.insert(t, "queued", 1), 2}, false)
	activeAfter(t, s, m, step{"five queued is above it", f.insert(t, "queued", 1), 3}, true)
	runSteps(t, s, []step{{"all done", func() { f.sql(t, "UPDATE app.jobs SET state = 'done'") }, 0}})
}

func TestMySQLQueryResults(t *testing.T) {
	f := newMyFixture(t)
	f.insert(t, "queued", 2)()
	f.insert(t, "running", 1)()
	runSQLQueries(t, "mysql", func(q string) map[string]string { return f.meta("query", q) }, myPasswordAuth, map[string]sqlQueryCase{
		"a count":                   {query: "SELECT COUNT(*) FROM jobs", want: 3},
		"a decimal":                 {query: "SELECT COUNT(*) / 4 FROM jobs", want: 0.75},
		"a double":                  {query: "SELECT CAST(2.5 AS DOUBLE)", want: 2.5},
		"text holding a number":     {query: "SELECT '12'", want: 12},
		"no row":                    {query: "SELECT COUNT(*) FROM jobs GROUP BY state HAVING COUNT(*) > 5", err: "mysql: query returned no row"},
		"several rows":              {query: "SELECT COUNT(*) FROM jobs GROUP BY state", err: "mysql: query returned more than one row, want 1"},
		"several columns":           {query: "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state", err: "mysql: query returned 2 columns (state, n), want 1"},
		"text that is not a number": {query: "SELECT MIN(state) FROM jobs", err: `mysql: query returned text "queued", not a number`},
		"NULL":                      {query: "SELECT MAX(id) FROM jobs WHERE FALSE", err: "mysql: query returned NULL, not a number"},
		"a date":                    {query: "SELECT DATE('2026-01-02')", err: `mysql: query returned text "2026-01-02", not a number`},
		"a missing table":           {query: "SELECT COUNT(*) FROM nope", err: "mysql: query: Error 1146 (42S02): Table 'app.nope' doesn't exist"},
		"no permission":             {query: "SELECT COUNT(*) FROM mysql.user", err: "mysql: query: Error 1142 (42000): SELECT command denied to user 'reader'@'localhost' for table `mysql`.`user`"},
	})
}

func TestMySQLCredentials(t *testing.T) {
	f := newMyFixture(t)
	query := "SELECT COUNT(*) FROM jobs"
	runSQLCredentials(t, "mysql", map[string]sqlCredentialCase{
		"parts with the password from a TriggerAuthentication": {meta: f.meta("query", query), auth: myPasswordAuth},
		"connection string from a TriggerAuthentication": {meta: map[string]string{"query": query, "queryValue": "1"},
			auth: map[string]string{"connectionString": f.srv.DSN("reader", myPassword, "app")}},
		"a wrong password": {meta: f.meta("query", query), auth: map[string]string{"password": "wrong-s3cret"},
			err: "Error 1045 (28000): Access denied for user 'reader'@'localhost' (using password: YES)"},
		"a password in plain metadata is not used": {meta: f.meta("query", query, "password", myPassword),
			err: "Error 1045 (28000): Access denied for user 'reader'@'localhost' (using password: NO)"},
	})
}

func TestMySQLServerStops(t *testing.T) {
	f := newMyFixture(t)
	s := build(t, "mysql", f.meta("query", "SELECT COUNT(*) FROM jobs"), myPasswordAuth, Deps{})
	readFailsAfterStop(t, s, f.srv.Stop, "mysql: query: ")
}

func TestMySQLBadConnectionString(t *testing.T) {
	m := parse(t, "mysql", map[string]string{"query": "SELECT 1", "queryValue": "1"},
		map[string]string{"connectionString": "reader:s3cret@tcp(db:3306)"})
	_, err := Builtin().Build("mysql", m, Deps{})
	if diff := cmp.Diff("build mysql: connectionString: invalid DSN: missing the slash separating the database name", errString(err)); diff != "" {
		t.Errorf("Build error (-want +got):\n%s", diff)
	}
}

func BenchmarkMySQLRead(b *testing.B) {
	f := newMyFixture(b)
	f.insert(b, "queued", 100)()
	s := build(b, "mysql", f.meta("query", "SELECT COUNT(*) FROM jobs WHERE state = 'queued'"), myPasswordAuth, Deps{})
	benchmarkRead(b, s, 100)
}
