// Package webhook serves ebb's validating admission webhook for the keda.sh/v1alpha1 kinds. It
// reads the cluster facts a rule needs (other ScaledObjects, HPAs, the target's pod template,
// LimitRanges, referenced authentications) and hands them to package validate; it owns the
// serving certificate, which it generates and renews itself.
//
// # CA bundle
//
// The server is its own certificate authority: at start it creates a CA and a serving
// certificate for Config.DNSNames, and renews both once two thirds of their validity has passed.
// The API server learns the CA from the caBundle of the ValidatingWebhookConfiguration named in
// Config.ConfigurationName, which the server patches itself (every webhook entry) at start, on
// each renewal and whenever a check finds it changed (e.g. the manifest was re-applied). On
// renewal the new CA is published next to the old one before the new certificate is served, so
// requests in flight keep verifying. The deployed manifest therefore ships without a caBundle
// and the actuator's service account needs get and patch on that one configuration. Run one
// webhook replica, or give replicas distinct configurations: each replica is its own CA.
package webhook
