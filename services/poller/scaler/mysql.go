package scaler

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net"

	"github.com/go-sql-driver/mysql"

	"ebb.dev/schemas/trigger"
)

// mySQL runs a trigger's query on a database/sql pool shared by every trigger with the same
// data source name (and so the same credentials).
type mySQL struct {
	db      *sql.DB
	release func() error
	query   string
}

func newMySQL(m trigger.MySQL, d Deps) (Scaler, error) {
	dsn := m.ConnectionString
	if dsn == "" {
		cfg := mysql.NewConfig()
		cfg.User, cfg.Passwd, cfg.DBName = m.Username, m.Password, m.DBName
		cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(m.Host, m.Port)
		dsn = cfg.FormatDSN()
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		// The driver's parse errors name the problem, never the password.
		return nil, fmt.Errorf("connectionString: %w", err)
	}
	cfg.Logger = mysqlLog{d.Log}
	db, release, err := Acquire(d.Pool, Key("mysql", dsn), func() (*sql.DB, error) {
		connector, err := mysql.NewConnector(cfg)
		if err != nil {
			return nil, err
		}
		return sql.OpenDB(connector), nil // connects on first query
	})
	if err != nil {
		return nil, err
	}
	return &mySQL{db: db, release: release, query: m.Query}, nil
}

func (s *mySQL) Read(ctx context.Context) (float64, error) {
	rows, err := s.db.QueryContext(ctx, s.query)
	if err != nil {
		return 0, fmt.Errorf("mysql: query: %w", err)
	}
	defer rows.Close()
	r, err := newMySQLRows(rows)
	if err != nil {
		return 0, fmt.Errorf("mysql: query: %w", err)
	}
	n, err := singleNumber(r)
	if err != nil {
		return 0, fmt.Errorf("mysql: %w", err)
	}
	return n, nil
}

func (s *mySQL) Close() error { return s.release() }

// mysqlLog sends the driver's messages (a dropped idle connection, say) to the poller's log.
type mysqlLog struct{ log *slog.Logger }

func (l mysqlLog) Print(v ...any) { l.log.Debug("mysql driver", "message", fmt.Sprint(v...)) }

// mySQLRows adapts *sql.Rows to sqlRows.
type mySQLRows struct {
	*sql.Rows
	columns []string
}

func newMySQLRows(rows *sql.Rows) (mySQLRows, error) {
	columns, err := rows.Columns()
	if err != nil {
		return mySQLRows{}, err
	}
	return mySQLRows{Rows: rows, columns: columns}, nil
}

func (r mySQLRows) Columns() []string { return r.columns }

func (r mySQLRows) Values() ([]any, error) {
	values := make([]any, len(r.columns))
	ptrs := make([]any, len(values))
	for i := range values {
		ptrs[i] = &values[i]
	}
	if err := r.Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("read row: %w", err)
	}
	return values, nil
}
