package scaler

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgAdmin is a superuser connection to the fixture's database app.
func pgAdmin(t testing.TB, f pgFixture) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), f.srv.URL("postgres", "admin-pw", "app"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// pgExec runs one statement as admin.
func pgExec(t testing.TB, admin *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := admin.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func TestPostgreSQLWakeUps(t *testing.T) {
	f := newPGFixture(t)
	admin := pgAdmin(t, f)
	notify := func(t *testing.T, channel string) {
		t.Helper()
		pgExec(t, admin, "SELECT pg_notify($1, 'new job')", channel)
	}
	listening := func(t *testing.T, n int) {
		t.Helper()
		waitUntil(t, "LISTEN connections to be as many as wanted", 5*time.Second, func() bool {
			var got int
			err := admin.QueryRow(context.Background(), "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", listenAppName).Scan(&got)
			if err != nil {
				t.Fatal(err)
			}
			return got == n
		})
	}
	meta := func(channel string) map[string]string {
		return f.meta("query", "SELECT count(*) FROM jobs", "notifyChannel", channel)
	}

	t.Run("without notifyChannel the scaler cannot wake", func(t *testing.T) {
		s := build(t, "postgresql", f.meta("query", "SELECT 1"), pgPasswordAuth, Deps{})
		if _, ok := s.(waker); ok {
			t.Errorf("%T wakes without a notifyChannel", s)
		}
	})

	t.Run("a NOTIFY on the channel wakes, one on another channel does not", func(t *testing.T) {
		w := wakeCounter(t, build(t, "postgresql", meta("Jobs Ready"), pgPasswordAuth, Deps{}))
		listening(t, 1)
		notify(t, "jobs ready") // what NOTIFY Jobs Ready, unquoted, sends
		w.none(t, "a NOTIFY on another channel", 300*time.Millisecond)
		notify(t, "Jobs Ready")
		w.await(t, "a wake-up after the NOTIFY", time.Second)
		got, err := readOnce(t, build(t, "postgresql", meta("Jobs Ready"), pgPasswordAuth, Deps{}))
		if err != nil || got != 0 {
			t.Errorf("Read = %v, %v; want the query's 0", got, err)
		}
		w.stop()
		listening(t, 0)
	})

	t.Run("one LISTEN connection per database and channel, shared, closed after the last trigger", func(t *testing.T) {
		pool := NewPool()
		d := Deps{Pool: pool}
		w1 := wakeCounter(t, build(t, "postgresql", meta("jobs"), pgPasswordAuth, d))
		w2 := wakeCounter(t, build(t, "postgresql", meta("jobs"), pgPasswordAuth, d))
		wb := wakeCounter(t, build(t, "postgresql", meta("reports"), pgPasswordAuth, d))
		listening(t, 2)
		notify(t, "jobs")
		w1.await(t, "the first trigger woken", time.Second)
		w2.await(t, "the second trigger woken", time.Second)
		wb.none(t, "the trigger on another channel", 200*time.Millisecond)
		w1.stop()
		notify(t, "jobs")
		w2.await(t, "the remaining trigger woken", time.Second)
		w1.none(t, "the stopped trigger", 200*time.Millisecond)
		w2.stop()
		listening(t, 1)
		wb.stop()
		listening(t, 0)
		if n := pool.Len(); n != 1 {
			t.Errorf("pool holds %d clients after every wake-up stopped, want 1 (the query pool)", n)
		}
	})

	t.Run("a connection lost through an outage is re-established and wakes to catch up", func(t *testing.T) {
		log, logs := capturedLogger(t)
		w := wakeCounter(t, build(t, "postgresql", meta("jobs"), pgPasswordAuth, Deps{Log: log}))
		listening(t, 1)
		// The outage: the server lets the trigger's role in no more, and ends its LISTEN connection.
		pgExec(t, admin, "ALTER ROLE reader NOLOGIN")
		pgExec(t, admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", listenAppName)
		logs.await(t, "push wake-ups failed", 2*time.Second)
		logs.await(t, "push wake-ups still failing", 3*time.Second)
		w.none(t, "wake-ups during the outage", 0)
		pgExec(t, admin, "ALTER ROLE reader LOGIN")
		w.await(t, "a catch-up wake-up once listening again", 3*time.Second)
		logs.await(t, "push wake-ups re-established", time.Second)
		listening(t, 1)
		notify(t, "jobs")
		w.await(t, "a wake-up after a NOTIFY on the new connection", time.Second)
	})

	t.Run("refused credentials are logged once, without the password, and retried quietly", func(t *testing.T) {
		log, logs := capturedLogger(t)
		const wrong = "wrong-s3cret-pw"
		w := wakeCounter(t, build(t, "postgresql", meta("jobs"), map[string]string{"password": wrong}, Deps{Log: log}))
		logs.await(t, "push wake-ups still failing", 3*time.Second)
		if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
			t.Errorf("%d warnings, want one:\n%s", n, logs)
		}
		if !strings.Contains(logs.String(), "password authentication failed") {
			t.Errorf("the log does not say why:\n%s", logs)
		}
		if strings.Contains(logs.String(), wrong) {
			t.Errorf("the password reached the log:\n%s", logs)
		}
		w.none(t, "wake-ups with refused credentials", 0)
	})
}
