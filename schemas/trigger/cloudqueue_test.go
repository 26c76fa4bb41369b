package trigger

import "testing"

func TestCloudQueues(t *testing.T) {
	const queueURL = "https://sqs.eu-west-1.amazonaws.com/1/q"
	keys := md("awsAccessKeyID", "AKIA", "awsSecretAccessKey", "s")
	runParse(t, "aws-sqs-queue", map[string]parseCase{
		"documented example": {
			p: Params{Metadata: md("queueURL", "https://sqs.eu-west-1.amazonaws.com/account_id/QueueName", "queueLength", "5",
				"awsRegion", "eu-west-1"), Auth: md("awsAccessKeyID", "AKIA", "awsSecretAccessKey", "s")},
			want: AWSSQSQueue{QueueURL: "https://sqs.eu-west-1.amazonaws.com/account_id/QueueName", QueueLength: 5, AWSRegion: "eu-west-1",
				IdentityOwner: "pod", ScaleOnInFlight: true, AccessKeyID: "AKIA", SecretAccessKey: "s"},
		},
		"queue name, region from auth, session token, delayed but not in flight": {
			p: Params{Metadata: md("queueURL", "orders", "queueLength", "7", "activationQueueLength", "2", "scaleOnInFlight", "false",
				"scaleOnDelayed", "true", "awsEndpoint", "http://127.0.0.1:4100"),
				Auth: md("awsRegion", "us-east-1", "awsAccessKeyID", "AKIA", "awsSecretAccessKey", "s", "awsSessionToken", "t")},
			want: AWSSQSQueue{QueueURL: "orders", QueueLength: 7, ActivationQueueLength: 2, AWSRegion: "us-east-1", AWSEndpoint: "http://127.0.0.1:4100",
				IdentityOwner: "pod", ScaleOnDelayed: true, AccessKeyID: "AKIA", SecretAccessKey: "s", SessionToken: "t"},
		},
		"queue URL and keys from env": {
			p: Params{Metadata: md("queueURLFromEnv", "QUEUE_URL", "awsRegion", "eu-west-1", "awsAccessKeyIDFromEnv", "AWS_ID", "awsSecretAccessKeyFromEnv", "AWS_KEY"),
				Env: md("QUEUE_URL", queueURL, "AWS_ID", "AKIA", "AWS_KEY", "s")},
			want: AWSSQSQueue{QueueURL: queueURL, QueueLength: 5, AWSRegion: "eu-west-1", IdentityOwner: "pod", ScaleOnInFlight: true, AccessKeyID: "AKIA", SecretAccessKey: "s"},
		},
		"no region": {
			p:    Params{Metadata: md("queueURL", queueURL), Auth: keys},
			errs: []string{"spec.triggers[0].metadata.awsRegion: Required value: set awsRegion or TriggerAuthentication parameter awsRegion"},
		},
		"no queue": {
			p:    Params{Metadata: md("awsRegion", "eu-west-1"), Auth: keys},
			errs: []string{"spec.triggers[0].metadata.queueURL: Required value: set queueURL or queueURLFromEnv"},
		},
		"no credentials": {
			p:    Params{Metadata: md("queueURL", queueURL, "awsRegion", "eu-west-1")},
			errs: []string{"spec.triggers[0].metadata.awsAccessKeyID: Required value: set TriggerAuthentication parameters awsAccessKeyID and awsSecretAccessKey (or awsAccessKeyIDFromEnv and awsSecretAccessKeyFromEnv)"},
		},
		"credentials in plain metadata are not read": {
			p:    Params{Metadata: md("queueURL", queueURL, "awsRegion", "eu-west-1", "awsAccessKeyID", "AKIA", "awsSecretAccessKey", "s")},
			errs: []string{"spec.triggers[0].metadata.awsAccessKeyID: Required value: set TriggerAuthentication parameters awsAccessKeyID and awsSecretAccessKey (or awsAccessKeyIDFromEnv and awsSecretAccessKeyFromEnv)"},
		},
		"key without secret": {
			p:    Params{Metadata: md("queueURL", queueURL, "awsRegion", "eu-west-1"), Auth: md("awsAccessKeyID", "AKIA")},
			errs: []string{"spec.triggers[0].metadata.awsSecretAccessKey: Required value: awsAccessKeyID and awsSecretAccessKey go together"},
		},
		"operator identity": {
			p:    Params{Metadata: md("queueURL", queueURL, "awsRegion", "eu-west-1", "identityOwner", "operator")},
			errs: []string{`spec.triggers[0].metadata.identityOwner: Invalid value: "operator": ebb reads SQS only with awsAccessKeyID and awsSecretAccessKey from a TriggerAuthentication; use pod`},
		},
		"role to assume": {
			p:    Params{Metadata: md("queueURL", queueURL, "awsRegion", "eu-west-1"), Auth: md("awsRoleArn", "arn:aws:iam::1:role/r")},
			errs: []string{"spec.triggers[0].authenticationRef[awsRoleArn]: Forbidden: assuming a role is not supported; give awsAccessKeyID and awsSecretAccessKey"},
		},
		"url without account": {
			p:    Params{Metadata: md("queueURL", "https://sqs.eu-west-1.amazonaws.com/orders", "awsRegion", "eu-west-1"), Auth: keys},
			errs: []string{`spec.triggers[0].metadata.queueURL: Invalid value: "https://sqs.eu-west-1.amazonaws.com/orders": must be a queue URL such as https://sqs.eu-west-1.amazonaws.com/123456789012/orders, or a queue name`},
		},
		"queue length zero": {
			p:    Params{Metadata: md("queueURL", queueURL, "awsRegion", "eu-west-1", "queueLength", "0"), Auth: keys},
			errs: []string{`spec.triggers[0].metadata.queueLength: Invalid value: "0": must be greater than 0`},
		},
		"fractional queue length": {
			p:    Params{Metadata: md("queueURL", queueURL, "awsRegion", "eu-west-1", "queueLength", "2.5"), Auth: keys},
			errs: []string{`spec.triggers[0].metadata.queueLength: Invalid value: "2.5": must be an integer`},
		},
		"negative activation": {
			p:    Params{Metadata: md("queueURL", queueURL, "awsRegion", "eu-west-1", "activationQueueLength", "-1"), Auth: keys},
			errs: []string{"spec.triggers[0].metadata.activationQueueLength: Invalid value: -1: must not be negative"},
		},
		"in flight not a bool": {
			p:    Params{Metadata: md("queueURL", queueURL, "awsRegion", "eu-west-1", "scaleOnInFlight", "yes"), Auth: keys},
			errs: []string{`spec.triggers[0].metadata.scaleOnInFlight: Invalid value: "yes": must be true or false`},
		},
	})
	runParse(t, "azure-queue", map[string]parseCase{
		"documented example": {
			p:    Params{Metadata: md("queueName", "orders", "queueLength", "5", "activationQueueLength", "50", "connectionFromEnv", "STORAGE_CONNECTIONSTRING_ENV_NAME"), Env: md("STORAGE_CONNECTIONSTRING_ENV_NAME", "UseDevelopmentStorage=true")},
			want: AzureQueue{QueueName: "orders", QueueLength: 5, ActivationQueueLength: 50, QueueLengthStrategy: "all", Connection: "UseDevelopmentStorage=true"},
		},
		"account name and key, visible only, china cloud": {
			p: Params{Metadata: md("queueName", "orders", "accountName", "acct", "queueLengthStrategy", "visibleonly", "cloud", "AzureChinaCloud"),
				Auth: md("accountKey", "a2V5")},
			want: AzureQueue{QueueName: "orders", QueueLength: 5, QueueLengthStrategy: "visibleonly", AccountName: "acct", AccountKey: "a2V5", Cloud: "AzureChinaCloud"},
		},
		"connection from auth, private cloud": {
			p: Params{Metadata: md("queueName", "orders", "cloud", "private", "endpointSuffix", "queue.local"),
				Auth: md("connection", "UseDevelopmentStorage=true")},
			want: AzureQueue{QueueName: "orders", QueueLength: 5, QueueLengthStrategy: "all", Connection: "UseDevelopmentStorage=true", Cloud: "private", EndpointSuffix: "queue.local"},
		},
		"no credentials": {
			p:    Params{Metadata: md("queueName", "orders")},
			errs: []string{"spec.triggers[0].metadata.connection: Required value: set connection (TriggerAuthentication or connectionFromEnv), or accountName with TriggerAuthentication parameter accountKey"},
		},
		"a connection in plain metadata is not read": {
			p:    Params{Metadata: md("queueName", "orders", "connection", "UseDevelopmentStorage=true")},
			errs: []string{"spec.triggers[0].metadata.connection: Required value: set connection (TriggerAuthentication or connectionFromEnv), or accountName with TriggerAuthentication parameter accountKey"},
		},
		"account name without key": {
			p:    Params{Metadata: md("queueName", "orders", "accountName", "acct", "accountKey", "a2V5")},
			errs: []string{"spec.triggers[0].authenticationRef[accountKey]: Required value: accountName needs accountKey from a TriggerAuthentication (ebb has no workload identity), or set connection"},
		},
		"unknown strategy": {
			p:    Params{Metadata: md("queueName", "orders", "queueLengthStrategy", "visible"), Auth: md("connection", "c")},
			errs: []string{`spec.triggers[0].metadata.queueLengthStrategy: Unsupported value: "visible": supported values: "all", "visibleonly"`},
		},
		"unknown cloud": {
			p:    Params{Metadata: md("queueName", "orders", "cloud", "Moon"), Auth: md("connection", "c")},
			errs: []string{`spec.triggers[0].metadata.cloud: Unsupported value: "Moon": supported values: "AzurePublicCloud", "AzureUSGovernmentCloud", "AzureChinaCloud", "Private"`},
		},
		"private cloud without suffix": {
			p:    Params{Metadata: md("queueName", "orders", "cloud", "Private"), Auth: md("connection", "c")},
			errs: []string{"spec.triggers[0].metadata.endpointSuffix: Required value: cloud Private needs endpointSuffix"},
		},
		"no queue name": {
			p:    Params{Metadata: md("queueLength", "5"), Auth: md("connection", "c")},
			errs: []string{"spec.triggers[0].metadata.queueName: Required value"},
		},
		"negative activation": {
			p:    Params{Metadata: md("queueName", "orders", "activationQueueLength", "-3"), Auth: md("connection", "c")},
			errs: []string{"spec.triggers[0].metadata.activationQueueLength: Invalid value: -3: must not be negative"},
		},
	})
}

func TestCloudQueueDerived(t *testing.T) {
	tests := map[string]struct {
		got, want string
	}{
		"sqs queue from a URL":          {AWSSQSQueue{QueueURL: "https://sqs.eu-west-1.amazonaws.com/1/orders"}.QueueName(), "orders"},
		"sqs queue given by name":       {AWSSQSQueue{QueueURL: "orders"}.QueueName(), "orders"},
		"azure public cloud by default": {AzureQueue{}.QueueEndpointSuffix(), "queue.core.windows.net"},
		"azure cloud names ignore case": {AzureQueue{Cloud: "azureusgovernmentcloud"}.QueueEndpointSuffix(), "queue.core.usgovcloudapi.net"},
		"azure china cloud":             {AzureQueue{Cloud: "AzureChinaCloud"}.QueueEndpointSuffix(), "queue.core.chinacloudapi.cn"},
		"azure private cloud as given":  {AzureQueue{Cloud: "Private", EndpointSuffix: "queue.example.org"}.QueueEndpointSuffix(), "queue.example.org"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

// TestCloudQueueAdmission: the webhook sees metadata and the names of the
// TriggerAuthentication's parameters, never their values.
func TestCloudQueueAdmission(t *testing.T) {
	sqsMeta := md("queueURL", "https://sqs.eu-west-1.amazonaws.com/1/orders", "awsRegion", "eu-west-1")
	runAdmission(t, "aws-sqs-queue", map[string]admissionCase{
		"keys from a TriggerAuthentication":            {meta: sqsMeta, auth: []string{"awsAccessKeyID", "awsSecretAccessKey"}},
		"keys and region from a TriggerAuthentication": {meta: md("queueURL", "orders"), auth: []string{"awsAccessKeyID", "awsSecretAccessKey", "awsRegion"}},
		"TriggerAuthentication that could not be read": {meta: sqsMeta, unknownAuth: true},
		"keys from env": {meta: md("queueURL", "orders", "awsRegion", "eu-west-1", "awsAccessKeyIDFromEnv", "ID", "awsSecretAccessKeyFromEnv", "KEY")},
		"TriggerAuthentication with a role and no keys": {meta: sqsMeta, auth: []string{"awsRoleArn"},
			errs: []string{"spec.triggers[0].metadata.awsAccessKeyID: Required value: set TriggerAuthentication parameters awsAccessKeyID and awsSecretAccessKey (or awsAccessKeyIDFromEnv and awsSecretAccessKeyFromEnv)"}},
		"TriggerAuthentication with the key id only": {meta: sqsMeta, auth: []string{"awsAccessKeyID"},
			errs: []string{"spec.triggers[0].metadata.awsSecretAccessKey: Required value: awsAccessKeyID and awsSecretAccessKey go together"}},
		"no TriggerAuthentication": {meta: sqsMeta,
			errs: []string{"spec.triggers[0].metadata.awsAccessKeyID: Required value: set TriggerAuthentication parameters awsAccessKeyID and awsSecretAccessKey (or awsAccessKeyIDFromEnv and awsSecretAccessKeyFromEnv)"}},
	})
	runAdmission(t, "azure-queue", map[string]admissionCase{
		"connection from a TriggerAuthentication":      {meta: md("queueName", "orders"), auth: []string{"connection"}},
		"account key from a TriggerAuthentication":     {meta: md("queueName", "orders", "accountName", "acct"), auth: []string{"accountKey"}},
		"documented example, connection from env":      {meta: md("queueName", "orders", "connectionFromEnv", "STORAGE", "accountName", "acct", "cloud", "AzureUSGovernmentCloud")},
		"TriggerAuthentication that could not be read": {meta: md("queueName", "orders", "accountName", "acct"), unknownAuth: true},
		"account name and no key": {meta: md("queueName", "orders", "accountName", "acct"), auth: []string{"connectionString"},
			errs: []string{"spec.triggers[0].authenticationRef[accountKey]: Required value: accountName needs accountKey from a TriggerAuthentication (ebb has no workload identity), or set connection"}},
		"visible only with a bad queue length": {meta: md("queueName", "orders", "queueLengthStrategy", "visibleonly", "queueLength", "many"), auth: []string{"connection"},
			errs: []string{`spec.triggers[0].metadata.queueLength: Invalid value: "many": must be an integer`}},
	})
}
