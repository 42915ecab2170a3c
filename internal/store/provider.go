package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/placement"
)

// Messages of the provider endpoints (spec 02), verbatim from upstream.
const (
	msgCreateFailed       = `Unable to create resource provider "%s", %s: Object action create failed because: %s`
	msgSaveFailed         = `Unable to save resource provider %s: Object action %s failed because: %s`
	msgNameRequired       = "name is required"
	msgParentIsSelf       = "parent provider UUID cannot be same as UUID. Please set parent provider UUID to None if there is no parent."
	msgParentMissing      = "parent provider UUID does not exist."
	msgNoUnparenting      = "un-parenting a provider is not currently allowed."
	msgNoReparenting      = "re-parenting a provider is not currently allowed."
	msgTreeLoop           = "creating loop in the provider tree is not allowed."
	msgDuplicateName      = "Conflicting resource provider name: %s already exists."
	msgDuplicateUUID      = "Conflicting resource provider uuid: %s already exists."
	msgDuplicateRename    = "Conflicting resource provider %s already exists."
	msgDeleteNotFound     = "No resource provider with uuid %s found for delete"
	msgCannotDeleteParent = "Unable to delete parent resource provider %s: It has child resource providers."
	msgProviderInUse      = "Unable to delete resource provider %s: Resource provider has allocations."
	msgUnknownTrait       = `Invalid trait(s) in "required" parameter: No such trait(s): %s.`
	msgUnknownClass       = "Invalid resource class in resources parameter: No such resource class %s."
)

// ResourceAmount is one RC:AMOUNT term of the resources filter.
type ResourceAmount = placement.ResourceAmount

// ProviderFilter holds the filters of GET /resource_providers. Zero values
// do not filter. All filters are ANDed.
type ProviderFilter struct {
	Name   string
	UUID   string
	InTree string
	// MemberOf terms are ANDed; the aggregate uuids inside one term are ORed.
	MemberOf [][]string
	// NotMemberOf excludes providers associated with any of these aggregates.
	NotMemberOf []string
	// Required lists any-of trait sets, ANDed, in query order: a provider
	// must have at least one trait of each. A plain required trait is a
	// set of one.
	Required  [][]string
	Forbidden []string // must have none
	Resources []ResourceAmount
}

// sqlBuilder collects WHERE conditions and their positional arguments.
type sqlBuilder struct {
	conds []string
	args  []any
}

func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + itoa(len(b.args))
}

func (b *sqlBuilder) where() string {
	if len(b.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(b.conds, " AND ")
}

// manyTerms is the number of member_of terms, required sets or resource
// classes from which a filter is resolved to provider ids by a query of
// its own rather than joined into the list query term by term. One
// semi-join per term made PostgreSQL's planning time grow with about the
// cube of their number (200 member_of terms: 35 s of a backend's CPU);
// one grouped subquery per filter inside the list query was planned as a
// nested loop that grouped one of them again for every row of the other
// (three classes and a member_of term: 3 to 6 s at 20,000 providers). A
// query of its own has one plan, a hash of the set's rows, and the list
// query then keeps only its providers.
const manyTerms = 8

// Set-based filter fragments over the provider alias "rp", for up to
// manyTerms terms. Each one is a semi- or anti-join that PostgreSQL
// evaluates once for the whole set.
const (
	condAllTraits = `rp.id IN (SELECT resource_provider_id FROM resource_provider_traits
		WHERE trait_id = ANY(%s) GROUP BY resource_provider_id HAVING count(*) = %s)`
	condAnyTrait = `EXISTS (SELECT 1 FROM resource_provider_traits rpt
		WHERE rpt.resource_provider_id = rp.id AND rpt.trait_id = ANY(%s))`
	condNoTrait = `NOT ` + condAnyTrait
	condAnyAgg  = `EXISTS (SELECT 1 FROM resource_provider_aggregates rpa
		JOIN placement_aggregates pa ON pa.id = rpa.aggregate_id
		WHERE rpa.resource_provider_id = rp.id AND pa.uuid = ANY(%s))`
	condNoAgg = `NOT ` + condAnyAgg
	// condResource keeps providers with an inventory of one class that can
	// take the amount. The capacity comparison is placement.Inventory's
	// FitsCapacity, (used + amount <= (total - reserved) * allocation_ratio,
	// in floating point) and the unit checks are its FitsUnits; keep the
	// three in step with internal/placement/inventory.go and
	// resourcesSQL.
	condResource = `rp.id IN (SELECT inv.resource_provider_id FROM inventories inv
		LEFT JOIN (SELECT resource_provider_id, sum(used) AS used FROM allocations
			WHERE resource_class_id = %[1]s GROUP BY resource_provider_id) u
			ON u.resource_provider_id = inv.resource_provider_id
		WHERE inv.resource_class_id = %[1]s
		AND inv.min_unit <= %[2]s AND inv.max_unit >= %[2]s
		AND CASE WHEN inv.step_size > 0 THEN %[2]s %% inv.step_size = 0 ELSE true END
		AND COALESCE(u.used, 0) + %[2]s <= (inv.total - inv.reserved) * inv.allocation_ratio)`
)

// The queries of their own, for more than manyTerms terms: the providers
// that match every set ($1 the members, $2 the number of each member's
// set, $3 the number of sets), or every class with its amount.
const (
	traitSetsSQL = `SELECT rpt.resource_provider_id FROM resource_provider_traits rpt
		JOIN unnest($1::integer[], $2::integer[]) AS want(trait_id, term) ON want.trait_id = rpt.trait_id
		GROUP BY rpt.resource_provider_id HAVING count(DISTINCT want.term) = $3`
	aggSetsSQL = `SELECT rpa.resource_provider_id FROM resource_provider_aggregates rpa
		JOIN placement_aggregates pa ON pa.id = rpa.aggregate_id
		JOIN unnest($1::text[], $2::integer[]) AS want(uuid, term) ON want.uuid = pa.uuid
		GROUP BY rpa.resource_provider_id HAVING count(DISTINCT want.term) = $3`
	// The classes are distinct; the checks are condResource's.
	resourcesSQL = `SELECT inv.resource_provider_id FROM inventories inv
		JOIN unnest($1::integer[], $2::bigint[]) AS want(class_id, amount) ON want.class_id = inv.resource_class_id
		LEFT JOIN (SELECT resource_provider_id, resource_class_id, sum(used) AS used FROM allocations
			WHERE resource_class_id = ANY($1) GROUP BY resource_provider_id, resource_class_id) u
			ON u.resource_provider_id = inv.resource_provider_id AND u.resource_class_id = inv.resource_class_id
		WHERE inv.min_unit <= want.amount AND inv.max_unit >= want.amount
		AND CASE WHEN inv.step_size > 0 THEN want.amount % inv.step_size = 0 ELSE true END
		AND COALESCE(u.used, 0) + want.amount <= (inv.total - inv.reserved) * inv.allocation_ratio
		GROUP BY inv.resource_provider_id HAVING count(*) = $3`
)

func (b *sqlBuilder) addf(format string, args ...any) {
	b.conds = append(b.conds, fmt.Sprintf(format, args...))
}

// numbered flattens sets into their members and, for each member, the
// number of its set. A set that repeats an earlier one (in any order) is
// left out; n is the number of sets kept.
func numbered[T cmp.Ordered](sets [][]T) (members []T, terms []int32, n int) {
	seen := make(map[string]bool, len(sets))
	for _, set := range sets {
		set = slices.Compact(slices.Sorted(slices.Values(set)))
		if key := fmt.Sprintf("%#v", set); !seen[key] {
			seen[key] = true
			for _, m := range set {
				members, terms = append(members, m), append(terms, int32(n))
			}
			n++
		}
	}
	return members, terms, n
}

// restrictBy runs sql (one of the queries of their own) and keeps only
// the providers it returns. The list query is planned with the ids
// (customPlans), so PostgreSQL hashes them.
func (b *sqlBuilder) restrictBy(ctx context.Context, tx pgx.Tx, sql string, args ...any) error {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return err
	}
	b.conds = append(b.conds, "rp.id = ANY("+b.arg(ids)+"::int4[])")
	return nil
}

// traitConds keeps providers with every trait of required and one of each
// set of anyOf.
func (b *sqlBuilder) traitConds(ctx context.Context, tx pgx.Tx, required []int, anyOf [][]int) error {
	if len(required)+len(anyOf) > manyTerms {
		sets := slices.Clone(anyOf)
		for _, id := range required {
			sets = append(sets, []int{id})
		}
		members, terms, n := numbered(sets)
		return b.restrictBy(ctx, tx, traitSetsSQL, members, terms, n)
	}
	if len(required) > 0 {
		b.addf(condAllTraits, b.arg(required), b.arg(len(required)))
	}
	for _, group := range anyOf {
		b.addf(condAnyTrait, b.arg(group))
	}
	return nil
}

// memberConds keeps providers in one aggregate of each term.
func (b *sqlBuilder) memberConds(ctx context.Context, tx pgx.Tx, terms [][]string) error {
	if len(terms) > manyTerms {
		members, nums, n := numbered(terms)
		return b.restrictBy(ctx, tx, aggSetsSQL, members, nums, n)
	}
	for _, term := range terms {
		b.addf(condAnyAgg, b.arg(term))
	}
	return nil
}

// resourceConds keeps providers whose inventory of each class can take
// its amount; classIDs has every class.
func (b *sqlBuilder) resourceConds(ctx context.Context, tx pgx.Tx, res []ResourceAmount, classIDs map[string]int) error {
	if len(res) > manyTerms {
		ids, amounts := make([]int, len(res)), make([]int64, len(res))
		for i, ra := range res {
			ids[i], amounts[i] = classIDs[ra.Class], ra.Amount
		}
		return b.restrictBy(ctx, tx, resourcesSQL, ids, amounts, len(res))
	}
	for _, ra := range res {
		b.addf(condResource, b.arg(classIDs[ra.Class]), b.arg(ra.Amount)+"::bigint")
	}
	return nil
}

// Providers returns the providers matching f ordered by id. Filters are
// evaluated in upstream's order as far as it is observable: an unknown
// in_tree provider gives an empty list; an unknown required trait is a 400;
// an unknown forbidden trait is a 400 unless the required traits already
// matched nothing; an unknown resource class is a 400 unless the trait or
// member_of filters already matched nothing (spec 02 §2.8).
func (s *Store) Providers(ctx context.Context, f ProviderFilter) ([]Provider, error) {
	var out []Provider
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = providers(ctx, tx, f)
		return err
	})
	return out, err
}

// customPlans makes the transaction's statements planned with their
// parameters every time. The list query's shape depends on the filters,
// and after five executions of one shape PostgreSQL may keep a generic
// plan: for three classes, one that grouped the allocations table again
// for every provider (30 s at 20,000 providers, from the fourth request of
// `openstack resource provider list --resource` with the same classes,
// against 0.15 s).
const customPlans = `SET LOCAL plan_cache_mode = force_custom_plan`

func providers(ctx context.Context, tx pgx.Tx, f ProviderFilter) ([]Provider, error) {
	if _, err := tx.Exec(ctx, customPlans); err != nil {
		return nil, err
	}
	var b sqlBuilder
	if f.Name != "" {
		b.conds = append(b.conds, "rp.name = "+b.arg(f.Name))
	}
	if f.UUID != "" {
		b.conds = append(b.conds, "rp.uuid = "+b.arg(f.UUID))
	}
	if f.InTree != "" {
		var root int
		err := tx.QueryRow(ctx, `SELECT COALESCE(root_provider_id, id) FROM resource_providers WHERE uuid = $1`, f.InTree).Scan(&root)
		if isNoRows(err) {
			return []Provider{}, nil
		}
		if err != nil {
			return nil, err
		}
		b.conds = append(b.conds, "rp.root_provider_id = "+b.arg(root))
	}

	traitIDs, err := idsByName(ctx, tx, `SELECT name, id FROM traits WHERE name = ANY($1)`,
		concat(concat(f.Required...), f.Forbidden))
	if err != nil {
		return nil, err
	}
	required, anyOf, err := requiredTraits(traitIDs, f.Required)
	if err != nil {
		return nil, err
	}
	forbidden, missingForbidden := lookup(traitIDs, f.Forbidden)

	classIDs, err := idsByName(ctx, tx, `SELECT name, id FROM resource_classes WHERE name = ANY($1)`, resourceNames(f.Resources))
	if err != nil {
		return nil, err
	}
	// The name of an unknown class may be "" (resources=:1).
	missingClass, classMissing := "", false
	for _, ra := range f.Resources {
		if _, ok := classIDs[ra.Class]; !ok {
			missingClass, classMissing = ra.Class, true
			break
		}
	}

	// Unknown names are only reported when the filters upstream applies
	// before them still match something.
	if missingForbidden != "" || classMissing {
		empty, err := matchesNothing(ctx, tx, func(b *sqlBuilder) error { return b.traitConds(ctx, tx, required, anyOf) })
		if err != nil || empty {
			return []Provider{}, err
		}
		if missingForbidden != "" {
			return nil, placement.E(placement.Invalid, msgUnknownTrait, missingForbidden)
		}
		empty, err = matchesNothing(ctx, tx, func(b *sqlBuilder) error { return b.memberConds(ctx, tx, f.MemberOf) })
		if err != nil || empty {
			return []Provider{}, err
		}
		return nil, placement.E(placement.Invalid, msgUnknownClass, missingClass)
	}

	if err := b.traitConds(ctx, tx, required, anyOf); err != nil {
		return nil, err
	}
	if len(forbidden) > 0 {
		b.addf(condNoTrait, b.arg(forbidden))
	}
	if err := b.memberConds(ctx, tx, f.MemberOf); err != nil {
		return nil, err
	}
	if len(f.NotMemberOf) > 0 {
		b.addf(condNoAgg, b.arg(f.NotMemberOf))
	}
	if err := b.resourceConds(ctx, tx, f.Resources, classIDs); err != nil {
		return nil, err
	}
	// Sorting in Go is cheaper than a database sort of the joined rows,
	// which spills to disk for large lists.
	rows, err := tx.Query(ctx, `SELECT `+providerColumns+` FROM `+providerFrom+b.where(), b.args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, scanProvider)
	slices.SortFunc(out, func(a, b Provider) int { return a.ID - b.ID })
	return out, err
}

// requiredTraits resolves the required sets by traitIDs into the traits
// required alone (distinct) and the any-of sets. Upstream resolves the
// sets in query order and names the first unknown trait it meets.
func requiredTraits(traitIDs map[string]int, sets [][]string) (required []int, anyOf [][]int, err error) {
	anyOf = make([][]int, 0, len(sets))
	for _, set := range sets {
		ids, missing := lookup(traitIDs, set)
		if missing != "" {
			return nil, nil, placement.E(placement.Invalid, msgUnknownTrait, missing)
		}
		if len(ids) == 1 {
			if !slices.Contains(required, ids[0]) {
				required = append(required, ids[0])
			}
		} else {
			anyOf = append(anyOf, ids)
		}
	}
	return required, anyOf, nil
}

// matchesNothing reports whether no provider satisfies the conditions add
// builds; no conditions at all never match nothing.
func matchesNothing(ctx context.Context, tx pgx.Tx, add func(b *sqlBuilder) error) (bool, error) {
	var b sqlBuilder
	if err := add(&b); err != nil {
		return false, err
	}
	if len(b.conds) == 0 {
		return false, nil
	}
	var found bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM resource_providers rp`+b.where()+`)`, b.args...).Scan(&found)
	return !found, err
}

// idsByName runs q (selecting name, id for names = ANY($1)) and maps the
// result. No names means no query; a name with a NUL byte is not found.
func idsByName(ctx context.Context, q querier, sql string, names []string) (map[string]int, error) {
	names = withoutNUL(names)
	out := make(map[string]int, len(names))
	if len(names) == 0 {
		return out, nil
	}
	rows, err := q.Query(ctx, sql, names)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var id int
		if err := rows.Scan(&name, &id); err != nil {
			return nil, err
		}
		out[name] = id
	}
	return out, rows.Err()
}

// lookup maps names to distinct ids; missing is the first unknown name.
func lookup(ids map[string]int, names []string) (out []int, missing string) {
	seen := make(map[int]bool, len(names))
	for _, n := range names {
		id, ok := ids[n]
		if !ok {
			return nil, n
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, ""
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func resourceNames(rs []ResourceAmount) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Class
	}
	return out
}

// NewProvider is the input of CreateProvider.
type NewProvider struct {
	UUID       string // canonical
	Name       string
	ParentUUID *string // compared verbatim
}

// insertProviderSQL creates a provider with generation 0 and returns it
// (providerColumns; the new row itself is not visible to the joins, hence
// the COALESCE for a root's own uuid). A root refers to itself as root and
// gets updated_at at once (upstream inserts, then sets root_provider_id);
// a child keeps updated_at NULL (spec 09 §2.1).
const insertProviderSQL = `
WITH ins AS (
	INSERT INTO resource_providers (id, uuid, name, generation, root_provider_id, parent_provider_id, created_at, updated_at)
	SELECT n.id, $1, $2, 0, COALESCE($3::integer, n.id), $4::integer, ` + now + `,
		CASE WHEN $4::integer IS NULL THEN ` + now + ` END
	FROM (SELECT nextval(pg_get_serial_sequence('resource_providers', 'id'))::integer AS id) n
	RETURNING *
)
SELECT rp.id, rp.uuid, rp.name, rp.generation, rp.parent_provider_id,
	rp.root_provider_id, pp.uuid, COALESCE(rr.uuid, rp.uuid), rp.created_at, rp.updated_at
FROM ins rp
	LEFT JOIN resource_providers pp ON pp.id = rp.parent_provider_id
	LEFT JOIN resource_providers rr ON rr.id = rp.root_provider_id`

// CreateProvider inserts a provider (spec 02 §3.2) and returns it. A root
// takes one statement; a child first locks its parent's tree.
func (s *Store) CreateProvider(ctx context.Context, np NewProvider) (Provider, error) {
	fail := func(kind placement.Kind, why string) error {
		return placement.E(kind, msgCreateFailed, np.Name, np.UUID, why)
	}
	if np.Name == "" {
		return Provider{}, fail(placement.Invalid, msgNameRequired)
	}
	if np.ParentUUID != nil && *np.ParentUUID == np.UUID {
		return Provider{}, fail(placement.Invalid, msgParentIsSelf)
	}
	insert := func(q querier, rootID, parentID *int) (Provider, error) {
		rows, err := q.Query(ctx, insertProviderSQL, np.UUID, np.Name, rootID, parentID)
		if err != nil {
			return Provider{}, err
		}
		p, err := pgx.CollectExactlyOneRow(rows, scanProvider)
		switch {
		case pgCode(err) == pgerrcode.UniqueViolation && pgConstraint(err) == "uniq_resource_providers0uuid" && !s.nameTaken(ctx, np.Name):
			return p, placement.E(placement.Conflict, msgDuplicateUUID, np.UUID).WithCode(placement.CodeDuplicateName)
		case pgCode(err) == pgerrcode.UniqueViolation:
			return p, placement.E(placement.Conflict, msgDuplicateName, np.Name).WithCode(placement.CodeDuplicateName)
		case pgCode(err) == pgerrcode.ForeignKeyViolation:
			return p, fail(placement.Invalid, msgParentMissing)
		}
		return p, err
	}
	if np.ParentUUID == nil {
		return insert(s.db, nil, nil)
	}
	var out Provider
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		id, root, err := lockTreeOf(ctx, tx, *np.ParentUUID)
		if isNoRows(err) {
			return fail(placement.Invalid, msgParentMissing)
		}
		if err != nil {
			return err
		}
		out, err = insert(tx, &root, &id)
		return err
	})
	return out, err
}

// nameTaken reports whether a provider has name. When both the uuid and
// the name of a new provider are taken, upstream's schema (its name index
// is older than its uuid index) makes PostgreSQL report the name; this
// service's schema has them the other way round, so a uuid conflict asks.
func (s *Store) nameTaken(ctx context.Context, name string) bool {
	var taken bool
	err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM resource_providers WHERE name = $1)`, name).Scan(&taken)
	return err == nil && taken
}

// lockTreeOf finds the provider uuid and its root and key-share locks both
// rows: the parent cannot be deleted, and its tree cannot be moved (reparent
// locks roots FOR UPDATE) until the transaction ends. Generation bumps
// (FOR NO KEY UPDATE) are not blocked. pgx.ErrNoRows if there is no such
// provider.
func lockTreeOf(ctx context.Context, tx pgx.Tx, uuid string) (id, root int, err error) {
	const find = `SELECT id, COALESCE(root_provider_id, id) FROM resource_providers WHERE uuid = $1`
	for attempt := 0; attempt < 10; attempt++ {
		if err = tx.QueryRow(ctx, find, uuid).Scan(&id, &root); err != nil {
			return 0, 0, err
		}
		if _, err = tx.Exec(ctx, `SELECT 1 FROM resource_providers WHERE id = ANY($1) ORDER BY id FOR KEY SHARE`, []int{id, root}); err != nil {
			return 0, 0, err
		}
		var again int
		if err = tx.QueryRow(ctx, find, uuid).Scan(&id, &again); err != nil {
			return 0, 0, err
		}
		if again == root {
			return id, root, nil
		}
	}
	return 0, 0, errConcurrentUpdate(MsgConcurrentUpdate)
}

// ProviderUpdate is the input of UpdateProvider.
type ProviderUpdate struct {
	Name string
	// SetParent says parent_provider_uuid was given; ParentUUID nil then
	// means null (make the provider a root).
	SetParent  bool
	ParentUUID *string
	// AllowReparent permits changing or removing an existing parent (1.37+).
	AllowReparent bool
}

// UpdateProvider renames and (re-)parents a provider (spec 02 §5) and
// returns it as stored afterwards. The generation is not changed.
func (s *Store) UpdateProvider(ctx context.Context, uuid string, u ProviderUpdate) (Provider, error) {
	var out Provider
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		p, err := providerByUUID(ctx, tx, uuid)
		if err != nil {
			return err
		}
		if u.SetParent {
			if err := reparent(ctx, tx, p, u); err != nil {
				return err
			}
		}
		if p.Name != u.Name {
			_, err := tx.Exec(ctx, `UPDATE resource_providers SET name = $2, updated_at = `+now+` WHERE id = $1`, p.ID, u.Name)
			if pgCode(err) == pgerrcode.UniqueViolation {
				return placement.E(placement.Conflict, msgDuplicateRename, u.Name).WithCode(placement.CodeDuplicateName)
			}
			if err != nil {
				return err
			}
		}
		out, err = providerByUUID(ctx, tx, uuid)
		return err
	})
	return out, err
}

// subtreeSQL lists a provider and all its descendants.
const subtreeSQL = `
WITH RECURSIVE sub(id) AS (
	SELECT $1::integer
	UNION
	SELECT c.id FROM resource_providers c JOIN sub ON c.parent_provider_id = sub.id
)
SELECT id FROM sub`

// reparent applies the parent change of u to p, checking the rules of spec
// 02 §5.2 in their order. Tree moves lock the root rows of the trees
// involved (in id order) and re-check after locking, so that two
// concurrent moves cannot build a cycle.
func reparent(ctx context.Context, tx pgx.Tx, p Provider, u ProviderUpdate) error {
	fail := func(action, why string) error {
		return placement.E(placement.Invalid, msgSaveFailed, p.UUID, action, why)
	}
	for attempt := 0; ; attempt++ {
		var newParent *Provider
		if u.ParentUUID == nil {
			if p.ParentID == nil {
				return nil
			}
			if !u.AllowReparent {
				return fail("update", msgNoUnparenting)
			}
		} else {
			np, err := providerByUUID(ctx, tx, *u.ParentUUID)
			if placement.KindOf(err) == placement.NotFound {
				return fail("create", msgParentMissing)
			}
			if err != nil {
				return err
			}
			if p.ParentID != nil && *p.ParentID != np.ID && !u.AllowReparent {
				return fail("update", msgNoReparenting)
			}
			newParent = &np
		}
		roots := []int{p.RootID}
		if newParent != nil && newParent.RootID != p.RootID {
			roots = append(roots, newParent.RootID)
		}
		if _, err := tx.Exec(ctx, `SELECT id FROM resource_providers WHERE id = ANY($1) ORDER BY id FOR UPDATE`, roots); err != nil {
			return err
		}
		// Re-read under the locks; if a concurrent move changed the trees,
		// start again from the new state.
		fresh, err := providerByUUID(ctx, tx, p.UUID)
		if err != nil {
			return err
		}
		stale := fresh.RootID != p.RootID || !sameParent(fresh.ParentID, p.ParentID)
		if newParent != nil {
			np, err := providerByUUID(ctx, tx, newParent.UUID)
			if placement.KindOf(err) == placement.NotFound {
				return fail("create", msgParentMissing)
			}
			if err != nil {
				return err
			}
			stale = stale || np.RootID != newParent.RootID
			newParent = &np
		}
		if stale && attempt < 10 {
			p = fresh
			continue
		}
		if stale {
			return errConcurrentUpdate(MsgConcurrentUpdate)
		}
		p = fresh

		rows, err := tx.Query(ctx, subtreeSQL, p.ID)
		if err != nil {
			return err
		}
		subtree, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			return err
		}
		newRoot := p.ID
		var parentID *int
		if newParent != nil {
			for _, id := range subtree {
				if id == newParent.ID {
					return fail("update", msgTreeLoop)
				}
			}
			if p.ParentID != nil && *p.ParentID == newParent.ID {
				return nil
			}
			newRoot, parentID = newParent.RootID, &newParent.ID
		}
		_, err = tx.Exec(ctx, `UPDATE resource_providers SET parent_provider_id = $2, updated_at = `+now+` WHERE id = $1`, p.ID, parentID)
		if pgCode(err) == pgerrcode.ForeignKeyViolation { // the new parent was deleted since it was read
			return fail("create", msgParentMissing)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE resource_providers SET root_provider_id = $2, updated_at = `+now+`
			WHERE id = ANY($1) AND root_provider_id IS DISTINCT FROM $2`, subtree, newRoot)
		return err
	}
}

func sameParent(a, b *int) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// DeleteProvider removes a provider without children or allocations, with
// its inventories, trait and aggregate associations (spec 02 §6).
func (s *Store) DeleteProvider(ctx context.Context, uuid string) error {
	return s.withTx(ctx, func(tx pgx.Tx) error {
		var id int
		err := tx.QueryRow(ctx, `SELECT id FROM resource_providers WHERE uuid = $1 FOR UPDATE`, uuid).Scan(&id)
		if isNoRows(err) {
			return notFound(msgDeleteNotFound, uuid)
		}
		if err != nil {
			return err
		}
		cannotDeleteParent := placement.E(placement.Conflict, msgCannotDeleteParent, uuid).WithCode(placement.CodeCannotDeleteParent)
		var hasChild, hasAllocs bool
		err = tx.QueryRow(ctx, `SELECT
			EXISTS (SELECT 1 FROM resource_providers WHERE parent_provider_id = $1),
			EXISTS (SELECT 1 FROM allocations WHERE resource_provider_id = $1)`, id).Scan(&hasChild, &hasAllocs)
		if err != nil {
			return err
		}
		if hasChild {
			return cannotDeleteParent
		}
		if hasAllocs {
			return placement.E(placement.Conflict, msgProviderInUse, uuid).WithCode(placement.CodeProviderInUse)
		}
		for _, q := range []string{
			`DELETE FROM inventories WHERE resource_provider_id = $1`,
			`DELETE FROM resource_provider_aggregates WHERE resource_provider_id = $1`,
			`DELETE FROM resource_provider_traits WHERE resource_provider_id = $1`,
			`DELETE FROM resource_providers WHERE id = $1`,
		} {
			_, err := tx.Exec(ctx, q, id)
			if pgCode(err) == pgerrcode.ForeignKeyViolation {
				// A child was inserted since the check above.
				return cannotDeleteParent
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}
