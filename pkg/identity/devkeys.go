package identity

import (
	"maps"
	"slices"
)

// devKeys are published in the source on purpose: dev mode prints them so a
// developer can call the sidecar against the Okta simulator without setup.
// They must never be accepted by a sidecar that talks to a real Okta org.
var devKeys = map[string]string{
	"reader-bot":      "bk_dev_reader-bot_DO-NOT-USE-IN-PRODUCTION",
	"helpdesk-bot":    "bk_dev_helpdesk-bot_DO-NOT-USE-IN-PRODUCTION",
	"provisioner-bot": "bk_dev_provisioner-bot_DO-NOT-USE-IN-PRODUCTION",
}

// DevKeys returns the well-known sample keys of dev mode, agent id → key.
//
// DEV ONLY: these keys are public. Never load them outside dev mode.
func DevKeys() map[string]string { return maps.Clone(devKeys) }

// DevKeyStore returns a KeyStore holding DevKeys.
//
// DEV ONLY: see DevKeys.
func DevKeyStore() *KeyStore {
	entries := make([]AgentKey, 0, len(devKeys))
	for _, id := range slices.Sorted(maps.Keys(devKeys)) {
		entries = append(entries, AgentKey{ID: id, KeySHA256: HashKey(devKeys[id])})
	}
	ks, err := NewKeyStore(entries)
	if err != nil {
		panic("identity: dev keys are invalid: " + err.Error()) // a bug in this file, caught by tests
	}
	return ks
}
