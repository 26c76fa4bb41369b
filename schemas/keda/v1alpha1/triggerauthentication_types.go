package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// TriggerAuthentication supplies trigger parameters from Secrets, ConfigMaps, the target's
// environment, Vault or service account tokens, in its own namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=triggerauthentications,scope=Namespaced,shortName=ta;triggerauth,categories=keda;ebb
// +kubebuilder:printcolumn:name="PodIdentity",type="string",JSONPath=".spec.podIdentity.provider"
// +kubebuilder:printcolumn:name="Secret",type="string",JSONPath=".spec.secretTargetRef[*].name"
// +kubebuilder:printcolumn:name="Env",type="string",JSONPath=".spec.env[*].name"
// +kubebuilder:printcolumn:name="VaultAddress",type="string",JSONPath=".spec.hashiCorpVault.address"
// +kubebuilder:printcolumn:name="ScaledObjects",type="string",priority=1,JSONPath=".status.scaledobjects"
// +kubebuilder:printcolumn:name="ScaledJobs",type="string",priority=1,JSONPath=".status.scaledjobs"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type TriggerAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec TriggerAuthenticationSpec `json:"spec"`
	// +optional
	Status TriggerAuthenticationStatus `json:"status,omitempty"`
}

// ClusterTriggerAuthentication is a TriggerAuthentication usable from every namespace. Its
// Secrets and ConfigMaps are read from ebb's own namespace, never from the workload's.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=clustertriggerauthentications,scope=Cluster,shortName=cta;clustertriggerauth,categories=keda;ebb
// +kubebuilder:printcolumn:name="PodIdentity",type="string",JSONPath=".spec.podIdentity.provider"
// +kubebuilder:printcolumn:name="Secret",type="string",JSONPath=".spec.secretTargetRef[*].name"
// +kubebuilder:printcolumn:name="Env",type="string",JSONPath=".spec.env[*].name"
// +kubebuilder:printcolumn:name="VaultAddress",type="string",JSONPath=".spec.hashiCorpVault.address"
// +kubebuilder:printcolumn:name="ScaledObjects",type="string",priority=1,JSONPath=".status.scaledobjects"
// +kubebuilder:printcolumn:name="ScaledJobs",type="string",priority=1,JSONPath=".status.scaledjobs"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type ClusterTriggerAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec TriggerAuthenticationSpec `json:"spec"`
	// +optional
	Status TriggerAuthenticationStatus `json:"status,omitempty"`
}

// TriggerAuthenticationSpec lists where each parameter comes from.
type TriggerAuthenticationSpec struct {
	// +optional
	PodIdentity *AuthPodIdentity `json:"podIdentity,omitempty"`
	// +optional
	SecretTargetRef []AuthSecretTargetRef `json:"secretTargetRef,omitempty"`
	// +optional
	ConfigMapTargetRef []AuthConfigMapTargetRef `json:"configMapTargetRef,omitempty"`
	// +optional
	Env []AuthEnvironment `json:"env,omitempty"`
	// +optional
	HashiCorpVault *HashiCorpVault `json:"hashiCorpVault,omitempty"`
	// +optional
	AzureKeyVault *AzureKeyVault `json:"azureKeyVault,omitempty"`
	// +optional
	GCPSecretManager *GCPSecretManager `json:"gcpSecretManager,omitempty"`
	// +optional
	AwsSecretManager *AwsSecretManager `json:"awsSecretManager,omitempty"`
	// +optional
	BoundServiceAccountToken []BoundServiceAccountToken `json:"boundServiceAccountToken,omitempty"`
}

// TriggerAuthenticationStatus lists who uses the authentication.
type TriggerAuthenticationStatus struct {
	// +optional
	ScaledObjectNamesStr string `json:"scaledobjects,omitempty"`
	// +optional
	ScaledJobNamesStr string `json:"scaledjobs,omitempty"`
}

// PodIdentityProvider names a platform identity mechanism; ebb acts on none only and stores the rest.
type PodIdentityProvider string

// Pod identity providers KEDA defines.
const (
	PodIdentityProviderNone          PodIdentityProvider = "none"
	PodIdentityProviderAzureWorkload PodIdentityProvider = "azure-workload"
	PodIdentityProviderGCP           PodIdentityProvider = "gcp"
	PodIdentityProviderAwsEKS        PodIdentityProvider = "aws-eks"
	PodIdentityProviderAws           PodIdentityProvider = "aws"
)

// AuthPodIdentity selects a platform identity.
type AuthPodIdentity struct {
	// +kubebuilder:validation:Enum=azure-workload;gcp;aws;aws-eks;none
	Provider PodIdentityProvider `json:"provider"`
	// +optional
	IdentityID *string `json:"identityId,omitempty"`
	// +optional
	IdentityTenantID *string `json:"identityTenantId,omitempty"`
	// +optional
	IdentityAuthorityHost *string `json:"identityAuthorityHost,omitempty"`
	// +optional
	RoleArn *string `json:"roleArn,omitempty"`
	// +optional
	// +kubebuilder:validation:Enum=keda;workload
	IdentityOwner *string `json:"identityOwner,omitempty"`
}

// AuthTargetRef maps a parameter to a key of a Secret or ConfigMap.
type AuthTargetRef struct {
	// +kubebuilder:validation:MinLength=1
	Parameter string `json:"parameter"`
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key"`
}

// AuthSecretTargetRef maps a parameter to a Secret key.
type AuthSecretTargetRef AuthTargetRef

// AuthConfigMapTargetRef maps a parameter to a ConfigMap key.
type AuthConfigMapTargetRef AuthTargetRef

// AuthEnvironment maps a parameter to an environment variable of the scale target's container.
type AuthEnvironment struct {
	// +kubebuilder:validation:MinLength=1
	Parameter string `json:"parameter"`
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +optional
	ContainerName string `json:"containerName,omitempty"`
}

// VaultAuthentication is how ebb logs in to Vault.
type VaultAuthentication string

// Vault login methods.
const (
	VaultAuthenticationToken      VaultAuthentication = "token"
	VaultAuthenticationKubernetes VaultAuthentication = "kubernetes"
)

// HashiCorpVault reads parameters from Vault.
type HashiCorpVault struct {
	Address string `json:"address"`
	// +kubebuilder:validation:Enum=token;kubernetes
	Authentication VaultAuthentication `json:"authentication"`
	Secrets        []VaultSecret       `json:"secrets"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// +optional
	Credential *Credential `json:"credential,omitempty"`
	// +optional
	Role string `json:"role,omitempty"`
	// +optional
	Mount string `json:"mount,omitempty"`
}

// Credential for Vault: a token, or a service account for the kubernetes method.
type Credential struct {
	// +optional
	Token string `json:"token,omitempty"`
	// ServiceAccount is the path of a token file.
	// +optional
	ServiceAccount string `json:"serviceAccount,omitempty"`
	// ServiceAccountName is a service account ebb requests a bound token for.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
}

// VaultSecretType is the Vault engine of a secret.
type VaultSecretType string

// Vault secret engines.
const (
	VaultSecretTypeGeneric  VaultSecretType = ""
	VaultSecretTypeSecretV2 VaultSecretType = "secretV2"
	VaultSecretTypeSecret   VaultSecretType = "secret"
	VaultSecretTypePki      VaultSecretType = "pki"
)

// VaultSecret maps a parameter to a Vault path and key.
type VaultSecret struct {
	Parameter string `json:"parameter"`
	Path      string `json:"path"`
	Key       string `json:"key"`
	// +optional
	// +kubebuilder:validation:Enum="";secretV2;secret;pki
	Type VaultSecretType `json:"type,omitempty"`
	// +optional
	PkiData VaultPkiData `json:"pkiData,omitempty"`
}

// VaultPkiData asks the pki engine for a certificate.
type VaultPkiData struct {
	CommonName string `json:"commonName,omitempty"`
	AltNames   string `json:"altNames,omitempty"`
	IPSans     string `json:"ipSans,omitempty"`
	URISans    string `json:"uriSans,omitempty"`
	OtherSans  string `json:"otherSans,omitempty"`
	TTL        string `json:"ttl,omitempty"`
	Format     string `json:"format,omitempty"`
}

// AzureKeyVault reads parameters from Azure Key Vault (stored; ebb does not read it).
type AzureKeyVault struct {
	VaultURI string                `json:"vaultUri"`
	Secrets  []AzureKeyVaultSecret `json:"secrets"`
	// +optional
	Credentials *AzureKeyVaultCredentials `json:"credentials,omitempty"`
	// +optional
	PodIdentity *AuthPodIdentity `json:"podIdentity,omitempty"`
	// +optional
	Cloud *AzureKeyVaultCloudInfo `json:"cloud,omitempty"`
}

// AzureKeyVaultCredentials is a service principal.
type AzureKeyVaultCredentials struct {
	ClientID     string                     `json:"clientId"`
	TenantID     string                     `json:"tenantId"`
	ClientSecret *AzureKeyVaultClientSecret `json:"clientSecret"`
}

// AzureKeyVaultClientSecret points at the client secret.
type AzureKeyVaultClientSecret struct {
	ValueFrom ValueFromSecret `json:"valueFrom"`
}

// ValueFromSecret points at a Secret key.
type ValueFromSecret struct {
	SecretKeyRef SecretKeyRef `json:"secretKeyRef"`
}

// SecretKeyRef names a Secret and a key in it.
type SecretKeyRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// AzureKeyVaultSecret maps a parameter to a Key Vault secret.
type AzureKeyVaultSecret struct {
	Parameter string `json:"parameter"`
	Name      string `json:"name"`
	// +optional
	Version string `json:"version,omitempty"`
}

// AzureKeyVaultCloudInfo selects the Azure cloud.
type AzureKeyVaultCloudInfo struct {
	Type string `json:"type"`
	// +optional
	KeyVaultResourceURL string `json:"keyVaultResourceURL,omitempty"`
	// +optional
	ActiveDirectoryEndpoint string `json:"activeDirectoryEndpoint,omitempty"`
}

// GCPSecretManager reads parameters from GCP Secret Manager (stored; ebb does not read it).
type GCPSecretManager struct {
	Secrets []GCPSecretManagerSecret `json:"secrets"`
	// +optional
	Credentials *GCPCredentials `json:"credentials,omitempty"`
	// +optional
	PodIdentity *AuthPodIdentity `json:"podIdentity,omitempty"`
}

// GCPCredentials points at a service account key.
type GCPCredentials struct {
	ClientSecret GCPSecretmanagerClientSecret `json:"clientSecret"`
}

// GCPSecretmanagerClientSecret points at the key's Secret.
type GCPSecretmanagerClientSecret struct {
	ValueFrom ValueFromSecret `json:"valueFrom"`
}

// GCPSecretManagerSecret maps a parameter to a GCP secret.
type GCPSecretManagerSecret struct {
	Parameter string `json:"parameter"`
	ID        string `json:"id"`
	// +optional
	Version string `json:"version,omitempty"`
}

// AwsSecretManager reads parameters from AWS Secrets Manager (stored; ebb does not read it).
type AwsSecretManager struct {
	Secrets []AwsSecretManagerSecret `json:"secrets"`
	// +optional
	Credentials *AwsSecretManagerCredentials `json:"credentials,omitempty"`
	// +optional
	PodIdentity *AuthPodIdentity `json:"podIdentity,omitempty"`
	// +optional
	Region string `json:"region,omitempty"`
}

// AwsSecretManagerCredentials are static AWS keys.
type AwsSecretManagerCredentials struct {
	AccessKey       *AwsSecretManagerValue `json:"accessKey"`
	AccessSecretKey *AwsSecretManagerValue `json:"accessSecretKey"`
	// +optional
	AccessToken *AwsSecretManagerValue `json:"accessToken,omitempty"`
}

// AwsSecretManagerValue points at a Secret key.
type AwsSecretManagerValue struct {
	ValueFrom ValueFromSecret `json:"valueFrom"`
}

// AwsSecretManagerSecret maps a parameter to an AWS secret.
type AwsSecretManagerSecret struct {
	Parameter string `json:"parameter"`
	Name      string `json:"name"`
	// +optional
	VersionID string `json:"versionId,omitempty"`
	// +optional
	VersionStage string `json:"versionStage,omitempty"`
}

// BoundServiceAccountToken maps a parameter to a token ebb requests for a service account.
type BoundServiceAccountToken struct {
	Parameter          string `json:"parameter"`
	ServiceAccountName string `json:"serviceAccountName"`
}

// +kubebuilder:object:root=true

// TriggerAuthenticationList is a list of TriggerAuthentications.
type TriggerAuthenticationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []TriggerAuthentication `json:"items"`
}

// +kubebuilder:object:root=true

// ClusterTriggerAuthenticationList is a list of ClusterTriggerAuthentications.
type ClusterTriggerAuthenticationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []ClusterTriggerAuthentication `json:"items"`
}
