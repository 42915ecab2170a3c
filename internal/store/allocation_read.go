package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/placement"
)

// Allocation is one stored allocation row with what the GET endpoints show.
type Allocation struct {
	ProviderUUID       string
	ProviderGeneration int
	ConsumerUUID       string
	ConsumerGeneration int
	ResourceClass      string
	Used               int
	CreatedAt          time.Time
}

// ConsumerAllocationList is a consumer's allocations with the consumer's
// attributes (meaningless when Allocations is empty).
type ConsumerAllocationList struct {
	Allocations  []Allocation
	ProjectID    string
	UserID       string
	Generation   int
	ConsumerType *string // nil: no type recorded ("unknown")
}

// AllocationsForConsumer returns the allocations of the consumer whose uuid
// is exactly consumerUUID; an unknown consumer has none.
func (s *Store) AllocationsForConsumer(ctx context.Context, consumerUUID string) (ConsumerAllocationList, error) {
	var out ConsumerAllocationList
	rows, err := s.db.Query(ctx, `
SELECT rp.uuid, rp.generation, rc.name, a.used, COALESCE(a.created_at, `+now+`),
       c.generation, p.external_id, u.external_id, ct.name
FROM allocations a
JOIN resource_providers rp ON rp.id = a.resource_provider_id
JOIN resource_classes rc ON rc.id = a.resource_class_id
JOIN consumers c ON c.uuid = a.consumer_id
JOIN projects p ON p.id = c.project_id
JOIN users u ON u.id = c.user_id
LEFT JOIN consumer_types ct ON ct.id = c.consumer_type_id
WHERE a.consumer_id = $1
ORDER BY rp.uuid, rc.name`, consumerUUID)
	if err != nil {
		return out, err
	}
	var a Allocation
	_, err = pgx.ForEachRow(rows, []any{&a.ProviderUUID, &a.ProviderGeneration, &a.ResourceClass, &a.Used, &a.CreatedAt,
		&out.Generation, &out.ProjectID, &out.UserID, &out.ConsumerType}, func() error {
		a.ConsumerUUID = consumerUUID
		a.ConsumerGeneration = out.Generation
		out.Allocations = append(out.Allocations, a)
		return nil
	})
	return out, err
}

// AllocationsForProvider returns the provider and its allocations. An
// unknown provider is NotFound "Resource provider '<uuid>' not found: No
// resource provider with uuid <uuid> found".
func (s *Store) AllocationsForProvider(ctx context.Context, rpUUID string) (Provider, []Allocation, error) {
	var out []Allocation
	var rp Provider
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		out = nil // withTx may run this again
		var err error
		rp, err = providerByUUID(ctx, tx, rpUUID)
		if placement.KindOf(err) == placement.NotFound {
			return notFound("Resource provider '%s' not found: %v", rpUUID, err)
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
SELECT c.uuid, c.generation, rc.name, a.used, COALESCE(a.created_at, `+now+`)
FROM allocations a
JOIN resource_classes rc ON rc.id = a.resource_class_id
JOIN consumers c ON c.uuid = a.consumer_id
JOIN projects p ON p.id = c.project_id
JOIN users u ON u.id = c.user_id
WHERE a.resource_provider_id = $1
ORDER BY c.uuid, rc.name`, rp.ID)
		if err != nil {
			return err
		}
		var a Allocation
		_, err = pgx.ForEachRow(rows, []any{&a.ConsumerUUID, &a.ConsumerGeneration, &a.ResourceClass, &a.Used, &a.CreatedAt}, func() error {
			a.ProviderUUID, a.ProviderGeneration = rp.UUID, rp.Generation
			out = append(out, a)
			return nil
		})
		return err
	})
	return rp, out, err
}
