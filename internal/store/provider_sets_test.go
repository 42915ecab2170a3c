package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/openstack-placement-go/placement/internal/store"
)

// manySets is a number of member_of terms, any-of trait sets or classes
// that used to take PostgreSQL minutes to plan (one EXISTS each: 200 took
// 35 s) and now take milliseconds; setsDeadline is far above the latter
// and far below the former.
const (
	manySets     = 300
	setsDeadline = 10 * time.Second
)

// TestProviders_ManySets lists providers with hundreds of member_of terms,
// any-of trait sets and resource classes, each within setsDeadline and
// with the right answer.
func TestProviders_ManySets(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	s, pool := rpStore(t)
	n := loadScale(t, pool)
	ctx := context.Background()
	var agg7 string
	var traits []string
	if err := pool.QueryRow(ctx, `SELECT md5('agg7')::uuid::text, array_agg(name ORDER BY id) FROM traits`).Scan(&agg7, &traits); err != nil {
		t.Fatal(err)
	}
	// Custom classes nobody has an inventory of.
	if _, err := pool.Exec(ctx, `INSERT INTO resource_classes (id, name, created_at)
		SELECT 10000 + i, 'CUSTOM_MANY_' || i, now() FROM generate_series(1, $1) i`, manySets); err != nil {
		t.Fatal(err)
	}

	var memberOf, sameTerm, anyOf, sameSet [][]string
	for i := range manySets {
		// agg7 in every term; the others name unknown aggregates, or
		// aggregates most providers are in (md5('agg' || i), i < 100).
		other := uuid.NewString()
		if i < 100 && i != 7 {
			if err := pool.QueryRow(ctx, `SELECT md5('agg' || $1::integer)::uuid::text`, i).Scan(&other); err != nil {
				t.Fatal(err)
			}
		}
		memberOf = append(memberOf, []string{other, agg7})
		sameTerm = append(sameTerm, []string{agg7, other})
		anyOf = append(anyOf, []string{traits[(i+1)%len(traits)], "HW_CPU_X86_AVX"})
		sameSet = append(sameSet, []string{"HW_CPU_X86_AVX", "HW_CPU_X86_AVX2"})
	}
	resources := []store.ResourceAmount{{Class: "VCPU", Amount: 1}}
	for i := 1; i < manySets; i++ {
		resources = append(resources, store.ResourceAmount{Class: fmt.Sprintf("CUSTOM_MANY_%d", i), Amount: 1})
	}

	for _, tc := range []struct {
		name string
		f    store.ProviderFilter
		want int
	}{
		// A provider of aggregate k != 7 would need k in every term.
		{"member_of terms", store.ProviderFilter{MemberOf: memberOf}, n / 100},
		{"member_of terms twice", store.ProviderFilter{MemberOf: append(memberOf, sameTerm...)}, n / 100},
		{"member_of terms and one more", store.ProviderFilter{MemberOf: append(memberOf, []string{uuid.NewString()})}, 0},
		{"any-of trait sets", store.ProviderFilter{Required: anyOf}, n / 3},
		{"one any-of set repeated", store.ProviderFilter{Required: sameSet}, n / 3},
		{"any-of sets and a required trait", store.ProviderFilter{Required: append(anyOf, []string{"HW_CPU_X86_AVX2"})}, 0},
		{"classes", store.ProviderFilter{Resources: resources}, 0},
		{"one of them", store.ProviderFilter{Resources: resources[:1]}, n},
	} {
		ctx, cancel := context.WithTimeout(ctx, setsDeadline)
		ps, err := s.Providers(ctx, tc.f)
		cancel()
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
		} else if len(ps) != tc.want {
			t.Errorf("%s: %d providers, want %d", tc.name, len(ps), tc.want)
		}
	}
}

// TestMemberOfMatchesNothing: a provider is in an aggregate when it or its
// root is; terms are ANDed, the aggregates of one term ORed; hundreds of
// terms take no longer to ask about than a few.
func TestMemberOfMatchesNothing(t *testing.T) {
	s, _ := rpStore(t)
	ctx := context.Background()
	root := createRP(t, s, nil)
	child := createRP(t, s, &root.UUID)
	other := createRP(t, s, nil)
	a, b, c, unknown := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	for p, aggs := range map[string][]string{root.UUID: {a}, child.UUID: {b}, other.UUID: {c}} {
		if _, err := s.SetProviderAggregates(ctx, p, aggs, nil); err != nil {
			t.Fatal(err)
		}
	}
	many := func(term []string) [][]string {
		var out [][]string
		for range manySets {
			out = append(out, append([]string{uuid.NewString()}, term...))
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		memberOf [][]string
		want     bool
	}{
		{"the root's", [][]string{{a}}, false},
		{"the child's and its root's", [][]string{{a}, {b}}, false},
		{"two roots'", [][]string{{a}, {c}}, true},
		{"either", [][]string{{a, c}, {c, b}}, false},
		{"unknown", [][]string{{unknown}}, true},
		{"many terms", append(many([]string{a}), many([]string{b})...), false},
		{"many terms, one unmet", append(many([]string{a}), []string{unknown}), true},
	} {
		ctx, cancel := context.WithTimeout(ctx, setsDeadline)
		none, err := s.MemberOfMatchesNothing(ctx, tc.memberOf)
		cancel()
		if err != nil || none != tc.want {
			t.Errorf("%s: %v, %v; want %v", tc.name, none, err, tc.want)
		}
	}
}

// TestProviders_RepeatedFilterKeepsCustomPlans runs one three-class filter
// ten times over 20,000 providers, each within 5 s. From the fourth or
// fifth time PostgreSQL used to switch the list query to a generic plan
// that grouped the allocations table again for every provider: about
// 20 s a request, where a plan made with the parameters takes 0.1 s.
func TestProviders_RepeatedFilterKeepsCustomPlans(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	s, pool := rpStore(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `
INSERT INTO resource_providers (id, uuid, name, generation, root_provider_id, created_at)
	SELECT i, md5(i::text)::uuid::text, 'rp' || i, 0, i, now() FROM generate_series(1, 20000) i;
INSERT INTO inventories (resource_provider_id, resource_class_id, total, reserved, min_unit, max_unit, step_size, allocation_ratio, created_at)
	SELECT i, c, 64, 0, 1, 64, 1, 1.0, now() FROM generate_series(1, 20000) i, generate_series(0, 2) c;
INSERT INTO allocations (resource_provider_id, consumer_id, resource_class_id, used, created_at)
	SELECT i, md5('c' || i)::uuid::text, 0, 8, now() FROM generate_series(1, 20000) i;
-- A hundred more classes with a few allocations each: the generic plan
-- guesses the rows of one class from the average.
INSERT INTO resource_classes (id, name, created_at)
	SELECT 10000 + c, 'CUSTOM_RARE_' || c, now() FROM generate_series(1, 100) c;
INSERT INTO inventories (resource_provider_id, resource_class_id, total, reserved, min_unit, max_unit, step_size, allocation_ratio, created_at)
	SELECT c, 10000 + c, 8, 0, 1, 8, 1, 1.0, now() FROM generate_series(1, 100) c;
INSERT INTO allocations (resource_provider_id, consumer_id, resource_class_id, used, created_at)
	SELECT c, md5('r' || c)::uuid::text, 10000 + c, 1, now() FROM generate_series(1, 100) c;
ANALYZE`); err != nil {
		t.Fatal(err)
	}
	f := store.ProviderFilter{Resources: []store.ResourceAmount{{Class: "DISK_GB", Amount: 4}, {Class: "MEMORY_MB", Amount: 4}, {Class: "VCPU", Amount: 60}}}
	for i := range 10 {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ps, err := s.Providers(ctx, f)
		cancel()
		if err != nil || len(ps) != 0 {
			t.Fatalf("request %d: %d providers, %v", i+1, len(ps), err)
		}
	}
}
