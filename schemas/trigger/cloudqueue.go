package trigger

import (
	"net/url"
	"path"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// AWSSQSQueue reads an SQS queue's approximate message count.
type AWSSQSQueue struct {
	QueueURL              string `trigger:"queueURL,from=meta|env"`
	QueueLength           int64  `trigger:"queueLength,default=5,target"`
	ActivationQueueLength int64  `trigger:"activationQueueLength,default=0,activation"`
	AWSRegion             string `trigger:"awsRegion"`
	AWSEndpoint           string `trigger:"awsEndpoint,optional"`
	IdentityOwner         string `trigger:"identityOwner,default=pod,enum=pod|operator"`
	ScaleOnInFlight       bool   `trigger:"scaleOnInFlight,default=true"`
	ScaleOnDelayed        bool   `trigger:"scaleOnDelayed,default=false"`
	AccessKeyID           string `trigger:"awsAccessKeyID,secret,optional,from=auth|env"`
	SecretAccessKey       string `trigger:"awsSecretAccessKey,secret,optional,from=auth|env"`
	SessionToken          string `trigger:"awsSessionToken,secret,optional,from=auth|env"`
	RoleArn               string `trigger:"awsRoleArn,optional,from=auth"`
}

// QueueName is the last path segment of the queue URL.
func (m AWSSQSQueue) QueueName() string {
	u, err := url.Parse(m.QueueURL)
	if err != nil {
		return ""
	}
	return path.Base(u.Path)
}

// MetricDetail is the queue name.
func (m AWSSQSQueue) MetricDetail() string { return m.QueueName() }

func (m AWSSQSQueue) validate(c *check) field.ErrorList {
	var errs field.ErrorList
	if m.QueueURL != "" {
		if u, err := url.Parse(m.QueueURL); err != nil || u.Host == "" || m.QueueName() == "/" || m.QueueName() == "." {
			errs = append(errs, field.Invalid(c.path("queueURL"), m.QueueURL, "must be a queue URL such as https://sqs.eu-west-1.amazonaws.com/123456789012/orders"))
		}
	}
	if c.has("awsAccessKeyID") != c.has("awsSecretAccessKey") {
		errs = append(errs, field.Required(c.path("awsSecretAccessKey"), "awsAccessKeyID and awsSecretAccessKey go together"))
	}
	if m.ActivationQueueLength < 0 {
		errs = append(errs, field.Invalid(c.path("activationQueueLength"), m.ActivationQueueLength, "must not be negative"))
	}
	return errs
}

// AzureQueue reads an Azure Storage queue's approximate message count.
type AzureQueue struct {
	QueueName             string `trigger:"queueName"`
	QueueLength           int64  `trigger:"queueLength,default=5,target"`
	ActivationQueueLength int64  `trigger:"activationQueueLength,default=0,activation"`
	Connection            string `trigger:"connection,secret,optional,from=auth|env"`
	AccountName           string `trigger:"accountName,optional,from=meta|env"`
	Cloud                 string `trigger:"cloud,optional"`
	EndpointSuffix        string `trigger:"endpointSuffix,optional"`
}

// MetricDetail is the queue name.
func (m AzureQueue) MetricDetail() string { return m.QueueName }

func (m AzureQueue) validate(c *check) field.ErrorList {
	var errs field.ErrorList
	if !c.has("connection") && !c.has("accountName") {
		errs = append(errs, field.Required(c.path("connection"), "set connection (TriggerAuthentication or connectionFromEnv) or accountName"))
	}
	if m.ActivationQueueLength < 0 {
		errs = append(errs, field.Invalid(c.path("activationQueueLength"), m.ActivationQueueLength, "must not be negative"))
	}
	return errs
}
