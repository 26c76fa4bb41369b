// Package webhook serves ebb's validating admission webhook for the keda.sh/v1alpha1 kinds. It
// reads the cluster facts a rule needs (other ScaledObjects, HPAs, the target's pod template,
// LimitRanges, referenced authentications) and hands them to package validate; it owns the
// serving certificate, which it generates and renews itself.
//
// # Certificates and CA bundle
//
// The webhook is its own certificate authority, shared by every replica through one Secret in
// the actuator's namespace (Config.SecretNamespace/SecretName, ebb-system/ebb-webhook-certs by
// default) holding the CA, the serving certificate and its key, and the previous CA. At start a
// replica reads the Secret; when there is none it issues a CA and a certificate for
// Config.DNSNames and creates it (if another replica created it first, it reads theirs). Every
// Resync each replica reads the Secret again, publishes its CA bundle and serves its
// certificate, so all replicas behind one Service serve certificates of the CA the API server
// trusts. Once two thirds of the certificate's validity has passed (or it lacks a configured
// name), one replica issues a new CA and certificate and writes them with an update at the
// resourceVersion it read; a conflict means another replica renewed first, and its
// certificate is used. The CA's key is not kept: each renewal makes a new CA. A Secret deleted
// (to rotate early) or unusable is written anew the same way, keeping the CA served until then
// as the previous one.
//
// The API server learns the CA from the caBundle of the ValidatingWebhookConfiguration named
// in Config.ConfigurationName, which every replica updates (every webhook entry) when it
// differs from the Secret's: at start, after a renewal, and when the manifest was re-applied.
// Trust comes first: a replica publishes a bundle with a certificate's CA before it serves the
// certificate, and the previous CA stays in the Secret and the bundle until it expires, so
// replicas that still serve the older certificate keep verifying. The configuration is read
// before the Secret and written at the resourceVersion read, so a replica that read the
// Secret just before another renewed it cannot write the older bundle over the newer one.
//
// The deployed manifest therefore ships without a caBundle. The actuator's role grants get
// and update on that one configuration, get and update on the one Secret, and create on
// Secrets in its namespace (create cannot be narrowed to a name). Reads go to the API server
// directly, not through a cache: the actuator watches no Secret.
package webhook
