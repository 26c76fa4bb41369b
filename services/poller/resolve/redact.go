package resolve

import (
	"net/url"
	"strings"

	"ebb.dev/schemas/trigger"
)

// minRedact is the shortest value Redact hides: shorter ones ("1", "on") would shred ordinary
// words in a message and are no credential worth the name.
const minRedact = 3

// Redact hides in s every value p took from a TriggerAuthentication or the environment, as
// written and URL-escaped. It is the poller's last guard before an error message leaves the
// process: a scaler should not echo a credential, and this makes sure none does.
func Redact(s string, p trigger.Params) string {
	for _, vals := range []map[string]string{p.Auth, p.Env} {
		for _, v := range vals {
			if len(v) < minRedact {
				continue
			}
			for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v), url.UserPassword("", v).String()[1:]} {
				if strings.Contains(s, form) {
					s = strings.ReplaceAll(s, form, "[redacted]")
				}
			}
		}
	}
	return s
}
