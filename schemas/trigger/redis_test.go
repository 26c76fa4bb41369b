package trigger

import "testing"

func TestRedis(t *testing.T) {
	runParse(t, "redis", map[string]parseCase{
		"documented example": {
			p: Params{Metadata: md("address", "localhost:6379", "listName", "mylist", "listLength", "5", "activationListLength", "5",
				"enableTLS", "false", "databaseIndex", "0", "usernameFromEnv", "REDIS_USERNAME", "passwordFromEnv", "REDIS_PASSWORD"),
				Env: md("REDIS_USERNAME", "u", "REDIS_PASSWORD", "p")},
			want: Redis{RedisConn: RedisConn{Address: "localhost:6379", Username: "u", Password: "p", TLS: "disable"},
				ListName: "mylist", ListLength: 5, ActivationListLength: 5},
		},
		"host and port with defaults": {
			p:    Params{Metadata: md("host", "redis", "port", "6379", "listName", "jobs")},
			want: Redis{RedisConn: RedisConn{Host: "redis", Port: "6379", TLS: "disable"}, ListName: "jobs", ListLength: 5},
		},
		"credentials and tls from the TriggerAuthentication": {
			p: Params{Metadata: md("address", "redis:6380", "listName", "jobs", "databaseIndex", "3"),
				Auth: md("username", "u", "password", "p", "tls", "enable", "ca", "CA", "cert", "C", "key", "K", "keyPassword", "KP")},
			want: Redis{RedisConn: RedisConn{Address: "redis:6380", Username: "u", Password: "p", DatabaseIndex: 3,
				TLS: "enable", CA: "CA", Cert: "C", Key: "K", KeyPassword: "KP"}, ListName: "jobs", ListLength: 5},
		},
		"password in metadata is not read": {
			p:    Params{Metadata: md("address", "redis:6379", "listName", "jobs", "password", "in-the-clear")},
			want: Redis{RedisConn: RedisConn{Address: "redis:6379", TLS: "disable"}, ListName: "jobs", ListLength: 5},
		},
		"no address": {
			p:    Params{Metadata: md("listName", "jobs")},
			errs: []string{"spec.triggers[0].metadata.address: Required value: set address, or host and port (in metadata, <name>FromEnv or the TriggerAuthentication)"},
		},
		"host without port": {
			p:    Params{Metadata: md("host", "redis", "listName", "jobs")},
			errs: []string{"spec.triggers[0].metadata.port: Required value: host needs a port"},
		},
		"address without port": {
			p:    Params{Metadata: md("address", "redis", "listName", "jobs")},
			errs: []string{`spec.triggers[0].metadata.address: Invalid value: "redis": must be host:port, such as redis:6379`},
		},
		"port out of range": {
			p:    Params{Metadata: md("host", "redis", "port", "70000", "listName", "jobs")},
			errs: []string{`spec.triggers[0].metadata.port: Invalid value: "70000": must be a port number between 1 and 65535`},
		},
		"list length not a number": {
			p:    Params{Metadata: md("address", "redis:6379", "listName", "jobs", "listLength", "many")},
			errs: []string{`spec.triggers[0].metadata.listLength: Invalid value: "many": must be an integer`},
		},
		"no list name": {
			p:    Params{Metadata: md("address", "redis:6379")},
			errs: []string{"spec.triggers[0].metadata.listName: Required value"},
		},
		"negative database, cert without key": {
			p: Params{Metadata: md("address", "redis:6379", "listName", "jobs", "databaseIndex", "-1"), Auth: md("cert", "C")},
			errs: []string{
				"spec.triggers[0].metadata.databaseIndex: Invalid value: -1: must not be negative",
				"spec.triggers[0].metadata.key: Required value: tls needs cert and key together",
			},
		},
		"tls neither enable nor disable": {
			p:    Params{Metadata: md("address", "redis:6379", "listName", "jobs"), Auth: md("tls", "yes")},
			errs: []string{`spec.triggers[0].authenticationRef[tls]: Unsupported value: "yes": supported values: "enable", "disable"`},
		},
	})
}

func TestRedisStreams(t *testing.T) {
	runParse(t, "redis-streams", map[string]parseCase{
		"documented pending entries example": {
			p: Params{Metadata: md("address", "localhost:6379", "stream", "my-stream", "consumerGroup", "my-consumer-group",
				"pendingEntriesCount", "10", "databaseIndex", "0", "enableTLS", "false")},
			want: RedisStreams{RedisConn: RedisConn{Address: "localhost:6379", TLS: "disable"}, Stream: "my-stream", ConsumerGroup: "my-consumer-group",
				PendingEntriesCount: 10, StreamLength: 5},
		},
		"documented lag example": {
			p: Params{Metadata: md("addressFromEnv", "REDIS_HOST", "usernameFromEnv", "REDIS_USERNAME", "passwordFromEnv", "REDIS_PASSWORD",
				"stream", "my-stream", "consumerGroup", "consumer-group-1", "lagCount", "10", "activationLagCount", "3"),
				Env: md("REDIS_HOST", "redis:6379", "REDIS_USERNAME", "u", "REDIS_PASSWORD", "p")},
			want: RedisStreams{RedisConn: RedisConn{Address: "redis:6379", Username: "u", Password: "p", TLS: "disable"}, Stream: "my-stream",
				ConsumerGroup: "consumer-group-1", PendingEntriesCount: 5, StreamLength: 5, LagCount: 10, ActivationLagCount: 3},
		},
		"documented stream length example": {
			p:    Params{Metadata: md("address", "redis:6379", "stream", "my-stream", "streamLength", "50"), Auth: md("enableTLS", "true")},
			want: RedisStreams{RedisConn: RedisConn{Address: "redis:6379", EnableTLS: true, TLS: "disable"}, Stream: "my-stream", PendingEntriesCount: 5, StreamLength: 50},
		},
		"no stream": {
			p:    Params{Metadata: md("address", "localhost:6379")},
			errs: []string{"spec.triggers[0].metadata.stream: Required value"},
		},
		"lag without group": {
			p:    Params{Metadata: md("address", "localhost:6379", "stream", "s", "lagCount", "4")},
			errs: []string{"spec.triggers[0].metadata.consumerGroup: Required value: lagCount needs a consumerGroup"},
		},
		"zero pending entries": {
			p:    Params{Metadata: md("address", "localhost:6379", "stream", "s", "consumerGroup", "g", "pendingEntriesCount", "0")},
			errs: []string{"spec.triggers[0].metadata.pendingEntriesCount: Invalid value: 0: must be greater than 0"},
		},
		"zero lag count": {
			p:    Params{Metadata: md("address", "localhost:6379", "stream", "s", "consumerGroup", "g", "lagCount", "0")},
			errs: []string{"spec.triggers[0].metadata.lagCount: Invalid value: 0: must be greater than 0"},
		},
	})
}

func TestRedisStreamsMode(t *testing.T) {
	tests := map[string]struct {
		m          RedisStreams
		mode       string
		target     float64
		activation float64
	}{
		"no group reads the length":    {RedisStreams{StreamLength: 7, PendingEntriesCount: 5}, StreamModeLength, 7, 0},
		"a group reads pending":        {RedisStreams{ConsumerGroup: "g", StreamLength: 7, PendingEntriesCount: 9}, StreamModePending, 9, 0},
		"a group with lagCount is lag": {RedisStreams{ConsumerGroup: "g", PendingEntriesCount: 9, LagCount: 3, ActivationLagCount: 1}, StreamModeLag, 3, 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.m.Mode(); got != tc.mode {
				t.Errorf("Mode = %s, want %s", got, tc.mode)
			}
			if got := Target(tc.m); got != tc.target {
				t.Errorf("Target = %v, want %v", got, tc.target)
			}
			if got := Activation(tc.m); got != tc.activation {
				t.Errorf("Activation = %v, want %v", got, tc.activation)
			}
		})
	}
}

func TestRedisAdmission(t *testing.T) {
	runAdmission(t, "redis", map[string]admissionCase{
		"address from env":   {meta: md("addressFromEnv", "REDIS_ADDRESS", "listName", "jobs")},
		"address from auth":  {meta: md("listName", "jobs"), auth: []string{"address", "password"}},
		"auth not yet known": {meta: md("listName", "jobs"), unknownAuth: true},
		"host in auth, no port": {
			meta: md("listName", "jobs"), auth: []string{"host"},
			errs: []string{"spec.triggers[0].metadata.port: Required value: host needs a port"},
		},
		"nothing to reach": {
			meta: md("listName", "jobs"), auth: []string{"password"},
			errs: []string{"spec.triggers[0].metadata.address: Required value: set address, or host and port (in metadata, <name>FromEnv or the TriggerAuthentication)"},
		},
	})
	runAdmission(t, "redis-streams", map[string]admissionCase{
		"lag mode": {meta: md("address", "r:6379", "stream", "s", "consumerGroup", "g", "lagCount", "5")},
		"tls cert in auth only": {meta: md("address", "r:6379", "stream", "s"), auth: []string{"tls", "cert"},
			errs: []string{"spec.triggers[0].metadata.key: Required value: tls needs cert and key together"}},
		"stream length not a number": {
			meta: md("address", "r:6379", "stream", "s", "streamLength", "lots"),
			errs: []string{`spec.triggers[0].metadata.streamLength: Invalid value: "lots": must be an integer`},
		},
	})
}
