package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// UsageFilter selects the consumers GET /usages counts.
type UsageFilter struct {
	ProjectID string  // external project id, required
	UserID    *string // external user id, optional
	// ConsumerType (1.38+): nil or "" counts every type; "all" and
	// "unknown" (exact) are the aliases of spec 05 §3.4; anything else is
	// a type name.
	ConsumerType *string
}

// UsageGroup is the usage of one consumer-type group.
type UsageGroup struct {
	ConsumerCount int
	Usages        map[string]int64
}

// usagesByClass sums used by class over the filter's consumers.
const usagesByClass = `
SELECT rc.name, SUM(a.used)
FROM allocations a
JOIN consumers c ON c.uuid = a.consumer_id
JOIN projects p ON p.id = c.project_id
JOIN users u ON u.id = c.user_id
JOIN resource_classes rc ON rc.id = a.resource_class_id
WHERE p.external_id = $1 AND ($2::text IS NULL OR u.external_id = $2)
GROUP BY rc.name`

// Usages returns the usage of the project (and user) by resource class,
// ignoring consumer types (GET /usages 1.9–1.37).
func (s *Store) Usages(ctx context.Context, f UsageFilter) (map[string]int64, error) {
	rows, err := s.db.Query(ctx, usagesByClass, f.ProjectID, f.UserID)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	var name string
	var used int64
	_, err = pgx.ForEachRow(rows, []any{&name, &used}, func() error {
		out[name] = used
		return nil
	})
	return out, err
}

// usagesByType groups the filter's allocations by consumer type ($3 = 'all'
// folds every type into one group "all"; consumers without a type form
// "unknown") and counts distinct consumers per group. $4 restricts the
// groups: NULL = every group, otherwise that group name.
const usagesByType = `
WITH matched AS (
  SELECT CASE WHEN $3::boolean THEN 'all' ELSE COALESCE(ct.name, 'unknown') END AS grp,
         c.id AS consumer, rc.name AS class, a.used
  FROM allocations a
  JOIN consumers c ON c.uuid = a.consumer_id
  JOIN projects p ON p.id = c.project_id
  JOIN users u ON u.id = c.user_id
  JOIN resource_classes rc ON rc.id = a.resource_class_id
  LEFT JOIN consumer_types ct ON ct.id = c.consumer_type_id
  WHERE p.external_id = $1 AND ($2::text IS NULL OR u.external_id = $2)
    AND ($4::text IS NULL OR ($4 = 'unknown' AND c.consumer_type_id IS NULL) OR ct.name = $4)
)
SELECT grp, class, SUM(used), COUNT(DISTINCT consumer)
FROM matched
GROUP BY GROUPING SETS ((grp, class), (grp))`

// UsagesByConsumerType returns the usage grouped by consumer type with the
// number of distinct consumers per group (GET /usages 1.38+, spec 05 §3.4).
func (s *Store) UsagesByConsumerType(ctx context.Context, f UsageFilter) (map[string]UsageGroup, error) {
	all := false
	var only *string
	if f.ConsumerType != nil && *f.ConsumerType != "" {
		if *f.ConsumerType == "all" {
			all = true
		} else {
			only = f.ConsumerType
		}
	}
	rows, err := s.db.Query(ctx, usagesByType, f.ProjectID, f.UserID, all, only)
	if err != nil {
		return nil, err
	}
	out := map[string]UsageGroup{}
	var grp string
	var class *string
	var used, count int64
	_, err = pgx.ForEachRow(rows, []any{&grp, &class, &used, &count}, func() error {
		g, ok := out[grp]
		if !ok {
			g = UsageGroup{Usages: map[string]int64{}}
		}
		if class == nil {
			g.ConsumerCount = int(count)
		} else {
			g.Usages[*class] = used
		}
		out[grp] = g
		return nil
	})
	return out, err
}
