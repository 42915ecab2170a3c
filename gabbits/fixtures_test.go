package gabbits

import (
	"testing"

	"github.com/google/uuid"

	"github.com/openstack-placement-go/placement/internal/gabbi"
)

// fixtures are the named set-ups a gabbit file may list under `fixtures:`.
var fixtures = map[string]gabbi.Fixture{
	"APIFixture": apiFixture,
	// The server of a file with this fixture runs with the shipped policy
	// defaults (see policyFor).
	"SecureRBACPolicyFixture": apiFixture,
	"CandidateFixture":        candidateFixture,
}

// candidateFixture names the providers and aggregates of the allocation
// candidate worlds of spec 07 §7: <NAME>_UUID is a fresh uuid for each.
func candidateFixture(t testing.TB, baseURL string, env map[string]string) error {
	for _, k := range []string{
		"CN_A", "CN_B", "CN_C", "NFS", "AGG1", "AGG2",
		"HOST", "NUMA0", "NUMA1", "GPU0", "GPU1", "NIC", "PF_A", "PF_B",
		"CN1", "PF1", "PF2", "CN2", "SS", "AGG_A", "CONSUMER",
		"WIDE", "WIDE_GPU1", "WIDE_GPU2", "WIDE_GPU3", "WIDE_GPU4",
		"CN_A1", "CN_A2", "CN_A3", "CN_B1", "CN_C1", "CN_C2",
	} {
		env[k+"_UUID"] = uuid.NewString()
	}
	return nil
}

// apiFixture provides the environment values upstream's gabbits expect:
// fresh uuids for providers, consumers, projects and users.
func apiFixture(t testing.TB, baseURL string, env map[string]string) error {
	for _, k := range []string{
		"RP_UUID", "RP_UUID1", "RP_UUID2", "PARENT_PROVIDER_UUID", "ALT_PARENT_PROVIDER_UUID",
		"CONSUMER_UUID", "CONSUMER_UUID1", "CONSUMER_UUID2", "ALT_CONSUMER_ID",
		"PROJECT_ID", "PROJECT_ID_ALT", "USER_ID", "USER_ID_ALT",
		"INSTANCE_UUID", "MIGRATION_UUID", "AGGREGATE_UUID", "AGGREGATE_UUID1", "AGGREGATE_UUID2",
	} {
		env[k] = uuid.NewString()
	}
	env["RP_NAME"] = uuid.NewString()
	env["RP_NAME1"] = uuid.NewString()
	env["RP_NAME2"] = uuid.NewString()
	env["CUSTOM_RES_CLASS"] = "CUSTOM_IRON_NFV"
	return nil
}
