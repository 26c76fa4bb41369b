package trigger

import (
	"net/url"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// AWSSQSQueue reads an SQS queue's approximate message count. ebb reads SQS only with access
// keys from a TriggerAuthentication (or <param>FromEnv): it has no identity of its own to lend.
type AWSSQSQueue struct {
	QueueURL              string `trigger:"queueURL,from=meta|env"` // a queue URL, or a bare queue name
	QueueLength           int64  `trigger:"queueLength,default=5,target"`
	ActivationQueueLength int64  `trigger:"activationQueueLength,default=0,activation"`
	AWSRegion             string `trigger:"awsRegion,from=meta|auth"`
	AWSEndpoint           string `trigger:"awsEndpoint,optional"`
	IdentityOwner         string `trigger:"identityOwner,default=pod,enum=pod|operator"`
	ScaleOnInFlight       bool   `trigger:"scaleOnInFlight,default=true"`
	ScaleOnDelayed        bool   `trigger:"scaleOnDelayed,default=false"`
	AccessKeyID           string `trigger:"awsAccessKeyID,secret,optional,from=auth|env"`
	SecretAccessKey       string `trigger:"awsSecretAccessKey,secret,optional,from=auth|env"`
	SessionToken          string `trigger:"awsSessionToken,secret,optional,from=auth|env"`
	RoleArn               string `trigger:"awsRoleArn,optional,from=auth"`
}

// QueueName is the last path segment of the queue URL, or queueURL itself when it is a bare
// queue name (KEDA accepts both).
func (m AWSSQSQueue) QueueName() string {
	if !m.IsURL() {
		return m.QueueURL
	}
	u, _ := url.Parse(m.QueueURL)
	return u.Path[strings.LastIndex(u.Path, "/")+1:]
}

// IsURL reports whether queueURL is an absolute URL rather than a bare queue name.
func (m AWSSQSQueue) IsURL() bool {
	_, err := url.ParseRequestURI(m.QueueURL)
	return err == nil
}

// MetricDetail is the queue name.
func (m AWSSQSQueue) MetricDetail() string { return m.QueueName() }

// metricKind: KEDA names SQS metrics s<i>-aws-sqs-<queue>, not after the trigger type.
func (m AWSSQSQueue) metricKind() string { return "aws-sqs" }

func (m AWSSQSQueue) validate(c *check) field.ErrorList {
	var errs field.ErrorList
	if m.QueueURL != "" && m.IsURL() {
		// KEDA's rule: the path is exactly /<account>/<queue>.
		u, _ := url.Parse(m.QueueURL)
		if parts := strings.Split(u.Path, "/"); u.Host == "" || len(parts) != 3 || parts[1] == "" || parts[2] == "" {
			errs = append(errs, field.Invalid(c.path("queueURL"), m.QueueURL, "must be a queue URL such as https://sqs.eu-west-1.amazonaws.com/123456789012/orders, or a queue name"))
		}
	}
	switch {
	case m.IdentityOwner == "operator":
		errs = append(errs, field.Invalid(c.path("identityOwner"), m.IdentityOwner, "ebb reads SQS only with awsAccessKeyID and awsSecretAccessKey from a TriggerAuthentication; use pod"))
	case m.RoleArn != "":
		errs = append(errs, field.Forbidden(c.trigger.Child("authenticationRef").Key("awsRoleArn"), "assuming a role is not supported; give awsAccessKeyID and awsSecretAccessKey"))
	case !c.has("awsAccessKeyID") && !c.has("awsSecretAccessKey"):
		errs = append(errs, field.Required(c.path("awsAccessKeyID"), "set TriggerAuthentication parameters awsAccessKeyID and awsSecretAccessKey (or awsAccessKeyIDFromEnv and awsSecretAccessKeyFromEnv)"))
	case c.has("awsAccessKeyID") != c.has("awsSecretAccessKey"):
		errs = append(errs, field.Required(c.path("awsSecretAccessKey"), "awsAccessKeyID and awsSecretAccessKey go together"))
	}
	if m.ActivationQueueLength < 0 {
		errs = append(errs, field.Invalid(c.path("activationQueueLength"), m.ActivationQueueLength, "must not be negative"))
	}
	return errs
}

// AzureQueue reads an Azure Storage queue's approximate message count. It connects with a
// connection string, or with accountName and accountKey (an ebb addition: KEDA pairs
// accountName with workload identity, which ebb does not support).
type AzureQueue struct {
	QueueName             string `trigger:"queueName"`
	QueueLength           int64  `trigger:"queueLength,default=5,target"`
	ActivationQueueLength int64  `trigger:"activationQueueLength,default=0,activation"`
	QueueLengthStrategy   string `trigger:"queueLengthStrategy,default=all,enum=all|visibleonly"`
	Connection            string `trigger:"connection,secret,optional,from=auth|env"`
	AccountName           string `trigger:"accountName,optional,from=meta|env"`
	AccountKey            string `trigger:"accountKey,secret,optional,from=auth|env"`
	Cloud                 string `trigger:"cloud,optional"`
	EndpointSuffix        string `trigger:"endpointSuffix,optional"`
}

// azureStorageSuffix is the storage endpoint suffix of a cloud KEDA names; names compare
// without case, as in KEDA, and empty is the public cloud.
func azureStorageSuffix(cloud string) (string, bool) {
	switch strings.ToUpper(cloud) {
	case "", "AZUREPUBLICCLOUD":
		return "core.windows.net", true
	case "AZUREUSGOVERNMENTCLOUD":
		return "core.usgovcloudapi.net", true
	case "AZURECHINACLOUD":
		return "core.chinacloudapi.cn", true
	}
	return "", false
}

// QueueEndpointSuffix is the host suffix of the account's queue service, after
// "<accountName>.": queue.<cloud's storage suffix>, or endpointSuffix as given for cloud Private.
func (m AzureQueue) QueueEndpointSuffix() string {
	if strings.EqualFold(m.Cloud, "Private") {
		return m.EndpointSuffix
	}
	suffix, _ := azureStorageSuffix(m.Cloud)
	return "queue." + suffix
}

// MetricDetail is the queue name.
func (m AzureQueue) MetricDetail() string { return m.QueueName }

func (m AzureQueue) validate(c *check) field.ErrorList {
	var errs field.ErrorList
	switch {
	case c.has("connection"):
	case !c.has("accountName"):
		errs = append(errs, field.Required(c.path("connection"), "set connection (TriggerAuthentication or connectionFromEnv), or accountName with TriggerAuthentication parameter accountKey"))
	case !c.has("accountKey"):
		errs = append(errs, field.Required(c.trigger.Child("authenticationRef").Key("accountKey"), "accountName needs accountKey from a TriggerAuthentication (ebb has no workload identity), or set connection"))
	}
	if _, known := azureStorageSuffix(m.Cloud); !known && !strings.EqualFold(m.Cloud, "Private") {
		errs = append(errs, field.NotSupported(c.path("cloud"), m.Cloud, []string{"AzurePublicCloud", "AzureUSGovernmentCloud", "AzureChinaCloud", "Private"}))
	}
	if strings.EqualFold(m.Cloud, "Private") && m.EndpointSuffix == "" {
		errs = append(errs, field.Required(c.path("endpointSuffix"), "cloud Private needs endpointSuffix"))
	}
	if m.ActivationQueueLength < 0 {
		errs = append(errs, field.Invalid(c.path("activationQueueLength"), m.ActivationQueueLength, "must not be negative"))
	}
	return errs
}
