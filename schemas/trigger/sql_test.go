package trigger

import (
	"strings"
	"testing"
)

func TestSQL(t *testing.T) {
	const q = "SELECT 1"
	runParse(t, "postgresql", map[string]parseCase{
		"documented example with connection from env": {
			p: Params{Metadata: md("connectionFromEnv", "AIRFLOW_CONN_AIRFLOW_DB", "query", "SELECT ceil(COUNT(*)::decimal / 16) FROM task_instance WHERE state='running' OR state='queued'",
				"targetQueryValue", "1.1", "activationTargetQueryValue", "5"), Env: md("AIRFLOW_CONN_AIRFLOW_DB", "postgresql://u:p@db/airflow")},
			want: PostgreSQL{Connection: "postgresql://u:p@db/airflow", Query: "SELECT ceil(COUNT(*)::decimal / 16) FROM task_instance WHERE state='running' OR state='queued'",
				TargetQueryValue: 1.1, ActivationTargetQueryValue: 5},
		},
		"parts with password from auth": {
			p: Params{Metadata: md("host", "db", "port", "5432", "userName", "kedaUser", "dbName", "test_db_name", "sslmode", "disable",
				"query", q, "targetQueryValue", "2"), Auth: md("password", "pw")},
			want: PostgreSQL{Host: "db", Port: "5432", UserName: "kedaUser", DBName: "test_db_name", SSLMode: "disable", Password: "pw",
				Query: q, TargetQueryValue: 2},
		},
		"connection from auth": {
			p:    Params{Metadata: md("query", q, "targetQueryValue", "3"), Auth: md("connection", "postgresql://u:p@db/app")},
			want: PostgreSQL{Connection: "postgresql://u:p@db/app", Query: q, TargetQueryValue: 3},
		},
		"parts from auth win over metadata": {
			p: Params{Metadata: md("host", "meta-db", "port", "1", "userName", "u", "dbName", "d", "sslmode", "disable", "query", q, "targetQueryValue", "1"),
				Auth: md("host", "auth-db", "port", "5432")},
			want: PostgreSQL{Host: "auth-db", Port: "5432", UserName: "u", DBName: "d", SSLMode: "disable", Query: q, TargetQueryValue: 1},
		},
		"a password in plain metadata is not read": {
			p: Params{Metadata: md("host", "db", "port", "5432", "userName", "u", "dbName", "d", "sslmode", "disable", "password", "pw",
				"query", q, "targetQueryValue", "1")},
			want: PostgreSQL{Host: "db", Port: "5432", UserName: "u", DBName: "d", SSLMode: "disable", Query: q, TargetQueryValue: 1},
		},
		"a connection in plain metadata is not read": {
			p: Params{Metadata: md("connection", "postgresql://u:p@db/app", "query", q, "targetQueryValue", "1")},
			errs: []string{
				"spec.triggers[0].metadata.host: Required value: set connection (TriggerAuthentication or connectionFromEnv), or host with the other connection parts",
				"spec.triggers[0].metadata.port: Required value: set connection (TriggerAuthentication or connectionFromEnv), or port with the other connection parts",
				"spec.triggers[0].metadata.userName: Required value: set connection (TriggerAuthentication or connectionFromEnv), or userName with the other connection parts",
				"spec.triggers[0].metadata.dbName: Required value: set connection (TriggerAuthentication or connectionFromEnv), or dbName with the other connection parts",
				"spec.triggers[0].metadata.sslmode: Required value: set connection (TriggerAuthentication or connectionFromEnv), or sslmode with the other connection parts",
			},
		},
		"neither connection nor parts": {
			p: Params{Metadata: md("host", "db", "query", q, "targetQueryValue", "2")},
			errs: []string{
				"spec.triggers[0].metadata.port: Required value: set connection (TriggerAuthentication or connectionFromEnv), or port with the other connection parts",
				"spec.triggers[0].metadata.userName: Required value: set connection (TriggerAuthentication or connectionFromEnv), or userName with the other connection parts",
				"spec.triggers[0].metadata.dbName: Required value: set connection (TriggerAuthentication or connectionFromEnv), or dbName with the other connection parts",
				"spec.triggers[0].metadata.sslmode: Required value: set connection (TriggerAuthentication or connectionFromEnv), or sslmode with the other connection parts",
			},
		},
		"no query": {
			p:    Params{Metadata: md("targetQueryValue", "1"), Auth: md("connection", "c")},
			errs: []string{"spec.triggers[0].metadata.query: Required value"},
		},
		"no target": {
			p:    Params{Metadata: md("query", q), Auth: md("connection", "c")},
			errs: []string{"spec.triggers[0].metadata.targetQueryValue: Required value"},
		},
		"target zero": {
			p:    Params{Metadata: md("query", q, "targetQueryValue", "0"), Auth: md("connection", "c")},
			errs: []string{`spec.triggers[0].metadata.targetQueryValue: Invalid value: "0": must be greater than 0`},
		},
		"activation not a number": {
			p:    Params{Metadata: md("query", q, "targetQueryValue", "1", "activationTargetQueryValue", "many"), Auth: md("connection", "c")},
			errs: []string{`spec.triggers[0].metadata.activationTargetQueryValue: Invalid value: "many": must be a number`},
		},
		"notify channel kept exactly as written": {
			p:    Params{Metadata: md("query", q, "targetQueryValue", "1", "notifyChannel", "Jobs Ready"), Auth: md("connection", "c")},
			want: PostgreSQL{Connection: "c", Query: q, TargetQueryValue: 1, NotifyChannel: "Jobs Ready"},
		},
		"notify channel of 63 bytes": {
			p:    Params{Metadata: md("query", q, "targetQueryValue", "1", "notifyChannel", strings.Repeat("c", 63)), Auth: md("connection", "c")},
			want: PostgreSQL{Connection: "c", Query: q, TargetQueryValue: 1, NotifyChannel: strings.Repeat("c", 63)},
		},
		"notify channel longer than an identifier": {
			p:    Params{Metadata: md("query", q, "targetQueryValue", "1", "notifyChannel", strings.Repeat("c", 64)), Auth: md("connection", "c")},
			errs: []string{"spec.triggers[0].metadata.notifyChannel: Too long: may not be more than 63 bytes"},
		},
		"notify channel with a NUL byte": {
			p:    Params{Metadata: md("query", q, "targetQueryValue", "1", "notifyChannel", "jobs\x00"), Auth: md("connection", "c")},
			errs: []string{`spec.triggers[0].metadata.notifyChannel: Invalid value: "jobs\x00": must not contain a NUL byte`},
		},
	})
	runParse(t, "mysql", map[string]parseCase{
		"documented example": {
			p: Params{Metadata: md("connectionStringFromEnv", "MYSQL_CONN_STR", "query", "SELECT CEIL(COUNT(*) / 6) FROM task_instance WHERE state='running' OR state='queued'",
				"queryValue", "4.4", "activationQueryValue", "5.4"), Env: md("MYSQL_CONN_STR", "u:p@tcp(db:3306)/stats")},
			want: MySQL{ConnectionString: "u:p@tcp(db:3306)/stats", Query: "SELECT CEIL(COUNT(*) / 6) FROM task_instance WHERE state='running' OR state='queued'",
				QueryValue: 4.4, ActivationQueryValue: 5.4},
		},
		"parts with password from auth": {
			p:    Params{Metadata: md("host", "db", "port", "3306", "username", "u", "dbName", "stats", "query", q, "queryValue", "2"), Auth: md("password", "pw")},
			want: MySQL{Host: "db", Port: "3306", Username: "u", Password: "pw", DBName: "stats", Query: q, QueryValue: 2},
		},
		"metadata wins over auth, username from env": {
			p: Params{Metadata: md("host", "meta-db", "port", "3306", "usernameFromEnv", "DB_USER", "query", q, "queryValue", "2"),
				Auth: md("host", "auth-db", "dbName", "stats", "password", "pw"), Env: md("DB_USER", "envuser")},
			want: MySQL{Host: "meta-db", Port: "3306", Username: "envuser", Password: "pw", DBName: "stats", Query: q, QueryValue: 2},
		},
		"a connection string in plain metadata is not read": {
			p: Params{Metadata: md("connectionString", "u:p@tcp(db:3306)/stats", "query", q, "queryValue", "1")},
			errs: []string{
				"spec.triggers[0].metadata.host: Required value: set connectionString (TriggerAuthentication or connectionStringFromEnv), or host with the other connection parts",
				"spec.triggers[0].metadata.port: Required value: set connectionString (TriggerAuthentication or connectionStringFromEnv), or port with the other connection parts",
				"spec.triggers[0].metadata.username: Required value: set connectionString (TriggerAuthentication or connectionStringFromEnv), or username with the other connection parts",
				"spec.triggers[0].metadata.dbName: Required value: set connectionString (TriggerAuthentication or connectionStringFromEnv), or dbName with the other connection parts",
			},
		},
		"missing query value": {
			p:    Params{Metadata: md("query", q), Auth: md("connectionString", "dsn")},
			errs: []string{"spec.triggers[0].metadata.queryValue: Required value"},
		},
		"negative query value": {
			p:    Params{Metadata: md("query", q, "queryValue", "-1"), Auth: md("connectionString", "dsn")},
			errs: []string{`spec.triggers[0].metadata.queryValue: Invalid value: "-1": must be greater than 0`},
		},
	})
}

// TestSQLAdmission: the webhook sees metadata and the names of the TriggerAuthentication's
// parameters, never their values.
func TestSQLAdmission(t *testing.T) {
	parts := md("host", "db", "port", "5432", "userName", "u", "dbName", "d", "sslmode", "disable", "query", "SELECT 1", "targetQueryValue", "1")
	runAdmission(t, "postgresql", map[string]admissionCase{
		"connection from a TriggerAuthentication":              {meta: md("query", "SELECT 1", "targetQueryValue", "1"), auth: []string{"connection"}},
		"parts with the password from a TriggerAuthentication": {meta: parts, auth: []string{"password"}},
		"connection from env":                                  {meta: md("connectionFromEnv", "PG", "query", "SELECT 1", "targetQueryValue", "1")},
		"TriggerAuthentication that could not be read":         {meta: md("query", "SELECT 1", "targetQueryValue", "1"), unknownAuth: true},
		"TriggerAuthentication without the connection": {meta: md("query", "SELECT 1", "targetQueryValue", "1", "sslmode", "disable"), auth: []string{"password"},
			errs: []string{
				"spec.triggers[0].metadata.host: Required value: set connection (TriggerAuthentication or connectionFromEnv), or host with the other connection parts",
				"spec.triggers[0].metadata.port: Required value: set connection (TriggerAuthentication or connectionFromEnv), or port with the other connection parts",
				"spec.triggers[0].metadata.userName: Required value: set connection (TriggerAuthentication or connectionFromEnv), or userName with the other connection parts",
				"spec.triggers[0].metadata.dbName: Required value: set connection (TriggerAuthentication or connectionFromEnv), or dbName with the other connection parts",
			}},
		"target not a number": {meta: md("query", "SELECT 1", "targetQueryValue", "one"), auth: []string{"connection"},
			errs: []string{`spec.triggers[0].metadata.targetQueryValue: Invalid value: "one": must be a number`}},
		"notify channel": {meta: md("query", "SELECT 1", "targetQueryValue", "1", "notifyChannel", "jobs"), auth: []string{"connection"}},
		"notify channel too long": {meta: md("query", "SELECT 1", "targetQueryValue", "1", "notifyChannel", strings.Repeat("j", 64)), auth: []string{"connection"},
			errs: []string{"spec.triggers[0].metadata.notifyChannel: Too long: may not be more than 63 bytes"}},
	})
	runAdmission(t, "mysql", map[string]admissionCase{
		"connection string from a TriggerAuthentication": {meta: md("query", "SELECT 1", "queryValue", "1"), auth: []string{"connectionString"}},
		"parts in metadata, password from a TriggerAuthentication": {
			meta: md("host", "db", "port", "3306", "username", "u", "dbName", "d", "query", "SELECT 1", "queryValue", "1"), auth: []string{"password"}},
		"no query": {meta: md("queryValue", "1"), auth: []string{"connectionString"},
			errs: []string{"spec.triggers[0].metadata.query: Required value"}},
		"no connection at all": {meta: md("query", "SELECT 1", "queryValue", "1"),
			errs: []string{
				"spec.triggers[0].metadata.host: Required value: set connectionString (TriggerAuthentication or connectionStringFromEnv), or host with the other connection parts",
				"spec.triggers[0].metadata.port: Required value: set connectionString (TriggerAuthentication or connectionStringFromEnv), or port with the other connection parts",
				"spec.triggers[0].metadata.username: Required value: set connectionString (TriggerAuthentication or connectionStringFromEnv), or username with the other connection parts",
				"spec.triggers[0].metadata.dbName: Required value: set connectionString (TriggerAuthentication or connectionStringFromEnv), or dbName with the other connection parts",
			}},
	})
}
