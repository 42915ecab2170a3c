package store_test

import (
	"testing"

	"github.com/openstack-placement-go/placement/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }
