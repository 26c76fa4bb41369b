package trigger

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Kafka reads a consumer group's lag on a topic (or on every topic it has offsets for).
type Kafka struct {
	BootstrapServers           []string   `trigger:"bootstrapServers,from=meta|env"`
	ConsumerGroup              string     `trigger:"consumerGroup,from=meta|env"`
	Topic                      string     `trigger:"topic,optional,from=meta|env"`
	PartitionLimitation        Partitions `trigger:"partitionLimitation,optional"`
	LagThreshold               int64      `trigger:"lagThreshold,default=10,target"`
	ActivationLagThreshold     int64      `trigger:"activationLagThreshold,default=0,activation"`
	OffsetResetPolicy          string     `trigger:"offsetResetPolicy,default=latest,enum=latest|earliest"`
	AllowIdleConsumers         bool       `trigger:"allowIdleConsumers,default=false"`
	ExcludePersistentLag       bool       `trigger:"excludePersistentLag,default=false"`
	ScaleToZeroOnInvalidOffset bool       `trigger:"scaleToZeroOnInvalidOffset,default=false"`
	LimitToPartitionsWithLag   bool       `trigger:"limitToPartitionsWithLag,default=false"`
	SASL                       string     `trigger:"sasl,default=none,enum=none|plaintext|scram_sha256|scram_sha512,from=auth|meta"` // KEDA's oauthbearer and gssapi are not supported
	Username                   string     `trigger:"username,secret,optional,from=auth|env"`
	Password                   string     `trigger:"password,secret,optional,from=auth|env"`
	TLS                        string     `trigger:"tls,default=disable,enum=enable|disable,from=auth|meta"`
	CA                         string     `trigger:"ca,secret,optional,from=auth"`
	Cert                       string     `trigger:"cert,secret,optional,from=auth"`
	Key                        string     `trigger:"key,secret,optional,from=auth"`
	KeyPassword                string     `trigger:"keyPassword,secret,optional,from=auth"`
	UnsafeSSL                  bool       `trigger:"unsafeSsl,default=false"`
}

// MetricDetail is the topic, or the consumer group when every topic counts.
func (m Kafka) MetricDetail() string {
	if m.Topic != "" {
		return m.Topic
	}
	return m.ConsumerGroup
}

func (m Kafka) validate(c *check) field.ErrorList {
	var errs field.ErrorList
	if m.ActivationLagThreshold < 0 {
		errs = append(errs, field.Invalid(c.path("activationLagThreshold"), m.ActivationLagThreshold, "must not be negative"))
	}
	if m.AllowIdleConsumers && m.LimitToPartitionsWithLag {
		errs = append(errs, field.Invalid(c.path("limitToPartitionsWithLag"), true, "cannot be used with allowIdleConsumers"))
	}
	if m.LimitToPartitionsWithLag && m.Topic == "" && !c.has("topic") {
		errs = append(errs, field.Invalid(c.path("limitToPartitionsWithLag"), true, "needs a topic"))
	}
	if len(m.PartitionLimitation) > 0 && m.Topic == "" && !c.has("topic") {
		errs = append(errs, field.Invalid(c.path("partitionLimitation"), m.PartitionLimitation.String(), "needs a topic"))
	}
	if m.SASL != "none" && m.SASL != "" {
		for _, name := range []string{"username", "password"} {
			if !c.has(name) {
				errs = append(errs, field.Required(c.path(name), fmt.Sprintf("sasl %s needs a username and password", m.SASL)))
			}
		}
	}
	if c.has("cert") != c.has("key") {
		errs = append(errs, field.Required(c.path("key"), "tls needs cert and key together"))
	}
	return errs
}

// Partitions is a partitionLimitation list such as "1,2,10-20".
type Partitions []int32

// UnmarshalText reads comma-separated partition ids and inclusive ranges.
func (p *Partitions) UnmarshalText(text []byte) error {
	var out Partitions
	for _, item := range splitList(string(text)) {
		lo, hi, isRange := strings.Cut(item, "-")
		first, err1 := strconv.ParseInt(strings.TrimSpace(lo), 10, 32)
		last, err2 := first, error(nil)
		if isRange {
			last, err2 = strconv.ParseInt(strings.TrimSpace(hi), 10, 32)
		}
		if err1 != nil || err2 != nil || first < 0 || last < first {
			return fmt.Errorf("must be partition ids or ranges such as 1,2,10-20")
		}
		for id := first; id <= last; id++ {
			out = append(out, int32(id))
		}
	}
	*p = out
	return nil
}

// String prints the ids comma separated.
func (p Partitions) String() string {
	ids := make([]string, len(p))
	for i, id := range p {
		ids[i] = strconv.Itoa(int(id))
	}
	return strings.Join(ids, ",")
}
