//go:build refcheck

// Package refcheck runs gabbit files against the reference server (temporary).
package refcheck

import (
	"os"
	"testing"

	"github.com/google/uuid"

	"github.com/openstack-placement-go/placement/internal/gabbi"
)

func fixture(t testing.TB, baseURL string, env map[string]string) error {
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

func TestReference(t *testing.T) {
	gabbi.RunFile(t, os.Getenv("GABBIT"), gabbi.Options{BaseURL: "http://127.0.0.1:18000",
		Fixtures: map[string]gabbi.Fixture{"APIFixture": fixture}})
}
