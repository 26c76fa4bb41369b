package validate

import (
	"net/url"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"ebb.dev/schemas/keda/v1alpha1"
)

// TriggerAuthentication returns every reason a (Cluster)TriggerAuthentication spec cannot be
// admitted: Vault and bound-token settings must be complete enough to resolve a parameter.
func TriggerAuthentication(spec *v1alpha1.TriggerAuthenticationSpec) field.ErrorList {
	path := field.NewPath("spec")
	errs := vault(spec.HashiCorpVault, path.Child("hashiCorpVault"))
	for i, t := range spec.BoundServiceAccountToken {
		at := path.Child("boundServiceAccountToken").Index(i)
		if t.Parameter == "" {
			errs = append(errs, field.Required(at.Child("parameter"), "name the trigger parameter the token fills"))
		}
		if t.ServiceAccountName == "" {
			errs = append(errs, field.Required(at.Child("serviceAccountName"), "name the service account to request a token for"))
		} else if msgs := validation.IsDNS1123Subdomain(t.ServiceAccountName); len(msgs) > 0 {
			errs = append(errs, field.Invalid(at.Child("serviceAccountName"), t.ServiceAccountName, msgs[0]))
		}
	}
	return errs
}

func vault(v *v1alpha1.HashiCorpVault, path *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	var errs field.ErrorList
	if v.Address == "" {
		errs = append(errs, field.Required(path.Child("address"), "the Vault server URL"))
	} else if u, err := url.Parse(v.Address); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, field.Invalid(path.Child("address"), v.Address, "must be an http or https URL"))
	}
	cred := v.Credential
	if cred == nil {
		cred = &v1alpha1.Credential{}
	}
	switch v.Authentication {
	case v1alpha1.VaultAuthenticationToken:
		if cred.Token == "" {
			errs = append(errs, field.Required(path.Child("credential", "token"), "token authentication needs a token"))
		}
	case v1alpha1.VaultAuthenticationKubernetes:
		if v.Role == "" {
			errs = append(errs, field.Required(path.Child("role"), "kubernetes authentication needs a Vault role"))
		}
		if v.Mount == "" {
			errs = append(errs, field.Required(path.Child("mount"), "kubernetes authentication needs the auth mount path"))
		}
		if cred.ServiceAccount == "" && cred.ServiceAccountName == "" {
			errs = append(errs, field.Required(path.Child("credential", "serviceAccountName"),
				"kubernetes authentication needs credential.serviceAccountName or credential.serviceAccount"))
		}
	default:
		errs = append(errs, field.NotSupported(path.Child("authentication"), string(v.Authentication),
			[]string{string(v1alpha1.VaultAuthenticationToken), string(v1alpha1.VaultAuthenticationKubernetes)}))
	}
	if len(v.Secrets) == 0 {
		errs = append(errs, field.Required(path.Child("secrets"), "list at least one secret to read"))
	}
	for i, s := range v.Secrets {
		at := path.Child("secrets").Index(i)
		if s.Parameter == "" {
			errs = append(errs, field.Required(at.Child("parameter"), ""))
		}
		if s.Path == "" {
			errs = append(errs, field.Required(at.Child("path"), ""))
		}
		if s.Key == "" && s.Type != v1alpha1.VaultSecretTypePki {
			errs = append(errs, field.Required(at.Child("key"), ""))
		}
	}
	return errs
}
