package scaler

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// listenAppName names the LISTEN connections, unless the connection string names them.
const listenAppName = "ebb-poller wake-ups"

// postgreSQLListen is a postgresql trigger with a notifyChannel: it also wakes on every NOTIFY
// on the channel, received on one dedicated connection per database and channel.
type postgreSQLListen struct {
	*postgreSQL
	pool    *Pool
	log     *slog.Logger
	cfg     *pgx.ConnConfig // holds the password: never logged
	channel string
	key     string
}

func newPostgreSQLListen(s *postgreSQL, cfg *pgx.ConnConfig, conn, channel string, d Deps) *postgreSQLListen {
	cfg = cfg.Copy()
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = listenAppName // shows in pg_stat_activity
	}
	// A quiet wait times out to check the connection: a deadline, not pgx's default cancel
	// request, ends it and leaves the connection usable.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	return &postgreSQLListen{postgreSQL: s, pool: d.Pool, log: d.Log, cfg: cfg, channel: channel,
		key: Key("postgresql-listen", conn, channel)}
}

// Wake calls fire on every NOTIFY on the trigger's channel.
func (p *postgreSQLListen) Wake(ctx context.Context, fire func()) (stop func(), err error) {
	log := p.log.With("source", "postgresql", "host", p.cfg.Host, "port", p.cfg.Port, "database", p.cfg.Database, "channel", p.channel)
	return wakeOn(ctx, p.pool, p.key, log, p.listen, fire)
}

func (p *postgreSQLListen) listen(ctx context.Context, w *watch) error {
	conn, err := pgx.ConnectConfig(ctx, p.cfg.Copy())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
		defer cancel()
		_ = conn.Close(ctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{p.channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	w.ready()
	for {
		wait, cancel := context.WithTimeout(ctx, pingAfter)
		_, err := conn.WaitForNotification(wait)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil:
			w.notify()
		case pgconn.Timeout(err):
			if err := ping(ctx, conn); err != nil {
				return fmt.Errorf("ping: %w", err)
			}
		default:
			return fmt.Errorf("wait for notifications: %w", err)
		}
	}
}

func ping(ctx context.Context, conn *pgx.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	return conn.Ping(ctx)
}
