package bus

import (
	"github.com/nats-io/nats-server/v2/server"

	"ebb.dev/schemas/msg"
)

// inboxPrefix is where a user's request replies arrive; only that user may subscribe to it.
func inboxPrefix(user string) string { return "_INBOX_" + user }

// grant is a set of publish and subscribe permissions being built for one user.
type grant struct{ pub, sub []string }

// permissions returns what a user of role r may do; nil means everything (admin).
func permissions(r Role, p msg.Prefix, user string) *server.Permissions {
	if r == RoleAdmin {
		return nil
	}
	g := grant{pub: []string{"$JS.API.INFO"}, sub: []string{inboxPrefix(user) + ".>"}}
	readings := ReadingsBucket(p)
	switch r {
	case RolePoller:
		g.pub = append(g.pub, p.All(msg.TypeReading))
		g.writeBucket(readings) // to delete the keys of triggers that are gone
		g.writeBucket(PollersBucket(p))
	case RoleDecider:
		g.sub = append(g.sub, p.All(msg.TypeReading))
		g.pub = append(g.pub, p.All(msg.TypeDecision))
		g.readStream(kvStream(readings))
		g.readStream(AuditStream(p))
		g.writeBucket(DeciderBucket(p))
	case RoleActuator:
		g.sub = append(g.sub, p.All(msg.TypeDecision))
		g.pub = append(g.pub, p.All(msg.TypeAction))
		g.readStream(kvStream(readings))
		g.readStream(AuditStream(p))
	case RoleMetricsAPI:
		g.sub = append(g.sub, p.All(msg.TypeReading), p.All(msg.TypeDecision))
		g.readStream(kvStream(readings))
		g.readStream(AuditStream(p))
	case RoleTap:
		g.sub = append(g.sub, p.All(msg.TypeReading), p.All(msg.TypeDecision), p.All(msg.TypeAction))
		g.readStream(kvStream(readings))
		g.readStream(AuditStream(p))
	}
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: g.pub},
		Subscribe: &server.SubjectPermission{Allow: g.sub},
	}
}

// readStream allows the JetStream API calls that read stream s: stream info, direct and
// message gets, and consumers of any kind with their acks and flow control. None of them
// changes the stream's messages.
func (g *grant) readStream(s string) {
	api := "$JS.API."
	g.pub = append(g.pub,
		api+"STREAM.INFO."+s,
		api+"STREAM.MSG.GET."+s,
		api+"DIRECT.GET."+s, api+"DIRECT.GET."+s+".>",
		api+"CONSUMER.CREATE."+s, api+"CONSUMER.CREATE."+s+".>",
		api+"CONSUMER.DURABLE.CREATE."+s+".>",
		api+"CONSUMER.INFO."+s+".>",
		api+"CONSUMER.DELETE."+s+".>",
		api+"CONSUMER.MSG.NEXT."+s+".>",
		"$JS.ACK."+s+".>",
		"$JS.FC."+s+".>",
	)
}

// writeBucket allows reading KV bucket b and putting and deleting its keys.
func (g *grant) writeBucket(b string) {
	g.readStream(kvStream(b))
	g.pub = append(g.pub, "$KV."+b+".>")
}
