package scaler

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ebb.dev/schemas/trigger"
)

// postgreSQL runs a trigger's query on a pgx pool shared by every trigger with the same
// connection string (and so the same credentials).
type postgreSQL struct {
	pool    pgPool
	release func() error
	query   string
}

// pgPool is a pooled pgx pool.
type pgPool struct{ *pgxpool.Pool }

func (p pgPool) Close() error {
	p.Pool.Close()
	return nil
}

func newPostgreSQL(m trigger.PostgreSQL, d Deps) (Scaler, error) {
	conn := m.Connection
	if conn == "" {
		conn = postgresConnString(m)
	}
	cfg, err := pgxpool.ParseConfig(conn)
	if err != nil {
		return nil, postgresParseError(m)
	}
	pool, release, err := Acquire(d.Pool, Key("postgresql", conn), func() (pgPool, error) {
		p, err := pgxpool.NewWithConfig(context.Background(), cfg) // connects on first query
		return pgPool{p}, err
	})
	if err != nil {
		return nil, err
	}
	s := &postgreSQL{pool: pool, release: release, query: m.Query}
	if m.NotifyChannel == "" {
		return s, nil
	}
	return newPostgreSQLListen(s, cfg.ConnConfig, conn, m.NotifyChannel, d), nil
}

// postgresConnString builds a keyword/value connection string from the trigger's parts, each
// value quoted so spaces, quotes and backslashes in a password survive.
func postgresConnString(m trigger.PostgreSQL) string {
	parts := []struct{ key, value string }{
		{"host", m.Host}, {"port", m.Port}, {"user", m.UserName}, {"dbname", m.DBName},
		{"sslmode", m.SSLMode}, {"password", m.Password},
	}
	var b strings.Builder
	for _, p := range parts {
		if p.value == "" {
			continue
		}
		quoted := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(p.value)
		fmt.Fprintf(&b, "%s='%s' ", p.key, quoted)
	}
	return strings.TrimSpace(b.String())
}

// postgresParseError says which parameters make a bad connection string without quoting it:
// pgx's own message repeats the string, and its password redaction is best effort.
func postgresParseError(m trigger.PostgreSQL) error {
	if m.Connection != "" {
		return errors.New("connection: not a PostgreSQL connection string (a postgres:// URL or key=value pairs)")
	}
	return errors.New("host, port, userName, dbName and sslmode do not make a valid connection string (is port a number, sslmode disable, allow, prefer, require, verify-ca or verify-full?)")
}

func (p *postgreSQL) Read(ctx context.Context) (float64, error) {
	rows, err := p.pool.Query(ctx, p.query)
	if err != nil {
		return 0, fmt.Errorf("postgresql: query: %w", err)
	}
	defer rows.Close()
	n, err := singleNumber(pgRows{rows})
	if err != nil {
		return 0, fmt.Errorf("postgresql: %w", err)
	}
	return n, nil
}

func (p *postgreSQL) Close() error { return p.release() }

// pgRows adapts pgx.Rows to sqlRows.
type pgRows struct{ pgx.Rows }

func (r pgRows) Columns() []string {
	fields := r.FieldDescriptions()
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return names
}
