package engine

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync/atomic"

	"github.com/openstack-placement-go/placement/internal/placement"
)

// SharingTrait marks a provider whose inventory is shared with every tree
// that has a provider in one of its aggregates.
const SharingTrait = "MISC_SHARES_VIA_AGGREGATE"

// Inventory is a provider's inventory of one class plus its current usage.
type Inventory struct {
	Class   string
	ClassID int64 // the class's id in the database (upstream's set order depends on it)
	placement.Inventory
	Used int64
}

// ProviderData describes one provider for NewSnapshot.
type ProviderData struct {
	ID          int64 // internal id: orders anchors and partials
	UUID        string
	ParentID    int64 // 0 for a root
	RootID      int64 // the provider's own ID for a root
	Traits      []string
	Aggregates  []string
	Inventories []Inventory
}

// Provider is a provider of a Snapshot.
type Provider struct {
	ID          int64
	UUID        string
	Parent      int32    // index in the snapshot (Snapshot.Provider), -1 for a root
	Root        int32    // index in the snapshot
	Traits      []string // sorted
	Aggregates  []string // sorted
	Inventories []Inventory
	Sharing     bool

	invClass []int32 // class id per Inventories entry
	traits   []int32 // sorted trait ids
	aggs     []int32 // sorted aggregate ids
	tree     []int32 // a root's tree: its members, ascending (nil below the root)
	anchors  []int32 // a sharing provider's anchors (the roots it serves), ascending
	// gone marks the place of a provider Update deleted: it is in no
	// tree, index or lookup, and has nothing but its id and uuid.
	gone bool
}

// Snapshot is the read-only, in-memory view of the providers relevant to one
// request: whole provider trees plus the sharing providers that may serve
// them. It is safe for concurrent use once built.
type Snapshot struct {
	// chunks hold the providers, ascending ID, chunkSize to a chunk (see
	// Provider): Update copies only the chunks it changes, so that the
	// cost of a refresh does not grow with the number of providers.
	chunks []*chunk
	n      int
	// Nested reports whether any provider in the whole database (not only
	// in this snapshot) has a parent; below 1.29 it hides multi-provider
	// candidates of one tree (spec 07 §6.6).
	Nested bool

	// byUUID indexes the providers by uuid; added holds the ones Update
	// added since byUUID was built (-1 for one it deleted), so that adding
	// a provider does not copy the whole map.
	byUUID, added map[string]int32
	// children counts the providers with a parent; gone the places of
	// deleted providers (see Provider.gone).
	children, gone int
	// The interned names. After an Update a name may have no provider
	// left; the lookups (classIndex, traitIndex, aggIndex) then do not
	// know it, as a new snapshot would not.
	classes    map[string]int32
	traits     map[string]int32
	aggs       map[string]int32
	classNames []string
	byClass    [][]int32 // class id -> providers with an inventory of it, ascending
	members    [][]int32 // aggregate id -> providers in it, ascending
	traitUse   []int32   // trait id -> number of providers with it
	sharing    []int32   // the sharing providers, ascending
	roots      []int32   // root providers, ascending
}

// chunkShift sets the chunk size: 256 providers (about 50 KiB with their
// memo slots).
const (
	chunkShift = 8
	chunkSize  = 1 << chunkShift
	chunkMask  = chunkSize - 1
)

// chunk is a run of providers with their memo slots (see Memo); the last
// chunk of a snapshot may be partly unused. Fixed-size arrays: indexing
// with i&chunkMask needs no bounds check.
type chunk struct {
	providers [chunkSize]Provider
	memo      [chunkSize]atomic.Pointer[any]
}

// Provider returns the provider with index i, 0 <= i < Len(); indexes
// follow ascending ID.
func (s *Snapshot) Provider(i int32) *Provider {
	return &s.chunks[i>>chunkShift].providers[i&chunkMask]
}

// Len returns the number of provider places: the providers, and the
// places of those Update deleted, which hold no provider (indexes run
// from 0 to Len()-1 all the same).
func (s *Snapshot) Len() int { return s.n }

// tree returns the members of the tree rooted at r, ascending.
func (s *Snapshot) tree(r int32) []int32 { return s.Provider(r).tree }

// anchors returns anchors(p) of a sharing provider p: the roots of the
// members of its aggregates, ascending (nil when p does not share).
func (s *Snapshot) anchors(p int32) []int32 { return s.Provider(p).anchors }

// classIndex, traitIndex and aggIndex return the interned id of a class,
// trait or aggregate that some provider has.
func (s *Snapshot) classIndex(name string) (int32, bool) {
	c, ok := s.classes[name]
	return c, ok && len(s.byClass[c]) > 0
}

func (s *Snapshot) traitIndex(name string) (int32, bool) {
	t, ok := s.traits[name]
	return t, ok && s.traitUse[t] > 0
}

func (s *Snapshot) aggIndex(name string) (int32, bool) {
	a, ok := s.aggs[name]
	return a, ok && len(s.members[a]) > 0
}

// ErrInconsistent is the error of providers that do not make whole trees:
// an id twice, a parent or a root missing.
var ErrInconsistent = errors.New("candidate: inconsistent provider data")

// NewSnapshot indexes providers. Every parent and root must be among them
// (snapshots hold whole trees): else the error is ErrInconsistent.
func NewSnapshot(providers []ProviderData, nested bool) (*Snapshot, error) {
	ps := slices.Clone(providers)
	slices.SortFunc(ps, func(a, b ProviderData) int { return cmpInt64(a.ID, b.ID) })
	s := &Snapshot{
		n:       len(ps),
		Nested:  nested,
		byUUID:  make(map[string]int32, len(ps)),
		classes: map[string]int32{},
		traits:  map[string]int32{},
		aggs:    map[string]int32{},
	}
	all := make([]Provider, len(ps)) // built here, then moved into the chunks
	byID := make(map[int64]int32, len(ps))
	for i, d := range ps {
		if _, dup := byID[d.ID]; dup {
			return nil, fmt.Errorf("%w: duplicate provider id %d", ErrInconsistent, d.ID)
		}
		byID[d.ID] = int32(i)
		s.byUUID[d.UUID] = int32(i)
	}
	for i, d := range ps {
		if err := s.fill(&all[i], int32(i), d, byID); err != nil {
			return nil, err
		}
	}
	s.indexTrees(all)
	s.indexSharing(all)
	s.chunks = make([]*chunk, (len(all)+chunkSize-1)/chunkSize)
	for c := range s.chunks {
		s.chunks[c] = new(chunk)
		copy(s.chunks[c].providers[:], all[c*chunkSize:])
	}
	return s, nil
}

// fill makes p, at index i, from d: its parent and root as indexes, its
// traits, aggregates and classes interned and indexed.
func (s *Snapshot) fill(p *Provider, i int32, d ProviderData, byID map[int64]int32) error {
	p.ID, p.UUID, p.Parent = d.ID, d.UUID, -1
	if d.ParentID != 0 {
		pi, ok := byID[d.ParentID]
		if !ok {
			return fmt.Errorf("%w: parent %d of provider %s not in snapshot", ErrInconsistent, d.ParentID, d.UUID)
		}
		p.Parent = pi
		s.children++
	}
	root := d.RootID
	if root == 0 {
		root = d.ID
	}
	ri, ok := byID[root]
	if !ok {
		return fmt.Errorf("%w: root %d of provider %s not in snapshot", ErrInconsistent, root, d.UUID)
	}
	p.Root = ri
	p.Traits = sortedUnique(d.Traits)
	p.Aggregates = sortedUnique(d.Aggregates)
	for _, t := range p.Traits {
		id := intern(s.traits, t)
		p.traits = append(p.traits, id)
		if int(id) >= len(s.traitUse) {
			s.traitUse = append(s.traitUse, 0)
		}
		s.traitUse[id]++
		if t == SharingTrait {
			p.Sharing = true
		}
	}
	slices.Sort(p.traits)
	for _, a := range p.Aggregates {
		id := intern(s.aggs, a)
		p.aggs = append(p.aggs, id)
		if int(id) >= len(s.members) {
			s.members = append(s.members, nil)
		}
		s.members[id] = append(s.members[id], i)
	}
	slices.Sort(p.aggs)
	p.Inventories = slices.Clone(d.Inventories)
	for _, inv := range p.Inventories {
		id := intern(s.classes, inv.Class)
		if int(id) == len(s.classNames) {
			s.classNames = append(s.classNames, inv.Class)
		}
		p.invClass = append(p.invClass, id)
		if int(id) >= len(s.byClass) {
			s.byClass = append(s.byClass, nil)
		}
		s.byClass[id] = append(s.byClass[id], i)
	}
	return nil
}

// indexTrees lists the roots and gives each its tree's members, carved
// from one array (capped: an Update that adds a member copies its tree).
func (s *Snapshot) indexTrees(all []Provider) {
	size := make([]int32, len(all))
	for i := range all {
		size[all[i].Root]++
		if all[i].Root == int32(i) {
			s.roots = append(s.roots, int32(i))
		}
	}
	mem := make([]int32, len(all))
	off := int32(0)
	for _, r := range s.roots {
		all[r].tree = mem[off : off : off+size[r]]
		off += size[r]
	}
	for i := range all {
		r := &all[all[i].Root]
		r.tree = append(r.tree, int32(i))
	}
}

// indexSharing lists the sharing providers and gives each its anchors.
func (s *Snapshot) indexSharing(all []Provider) {
	var seen []bool
	for i := range all {
		if all[i].Sharing {
			if seen == nil {
				seen = make([]bool, len(all))
			}
			s.sharing = append(s.sharing, int32(i))
			all[i].anchors = s.anchorsOf(&all[i], func(q int32) int32 { return all[q].Root }, seen)
		}
	}
}

// anchorsOf computes anchors(p): the roots (rootOf) of the members of
// p's aggregates, ascending. seen, false at every root, has each root
// taken once (an aggregate of many members in the same trees gives a
// short list to sort); without it the list is sorted whole.
func (s *Snapshot) anchorsOf(p *Provider, rootOf func(int32) int32, seen []bool) []int32 {
	var out []int32
	for _, a := range p.aggs {
		for _, q := range s.members[a] {
			r := rootOf(q)
			if seen != nil {
				if seen[r] {
					continue
				}
				seen[r] = true
			}
			out = append(out, r)
		}
	}
	if seen != nil {
		for _, r := range out {
			seen[r] = false
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func intern(m map[string]int32, name string) int32 {
	id, ok := m[name]
	if !ok {
		id = int32(len(m))
		m[name] = id
	}
	return id
}

func sortedUnique(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

// inv returns the index of p's inventory of class c, or -1.
func (p *Provider) inv(c int32) int {
	for i, x := range p.invClass {
		if x == c {
			return i
		}
	}
	return -1
}

// fits is spec 07 §5 fits(p, c, n): the one capacity rule of the write path.
func (p *Provider) fits(c int32, n int64) bool {
	i := p.inv(c)
	if i < 0 {
		return false
	}
	inv := &p.Inventories[i]
	return n <= int64(maxInt) && inv.FitsUnits(int(n)) && inv.FitsCapacity(inv.Used, n)
}

// most is the largest amount of class c that allocations from p can add
// up to on top of what is used: within max_unit and, by FitsCapacity,
// within floor(capacity) (exact below 2^53, where every integer is a
// float64; above it max_unit alone bounds it).
func (p *Provider) most(c int32) int64 {
	i := p.inv(c)
	if i < 0 {
		return 0
	}
	inv := &p.Inventories[i]
	most := int64(inv.MaxUnit)
	if capacity := inv.Capacity(); capacity < 1<<53 {
		most = min(most, int64(math.Floor(capacity))-inv.Used)
	}
	return max(most, 0)
}

const maxInt = int(^uint(0) >> 1)

func hasAny(sorted []int32, set []int32) bool {
	for _, x := range set {
		if _, ok := slices.BinarySearch(sorted, x); ok {
			return true
		}
	}
	return false
}

// ProviderByUUID returns the index of the provider with that exact uuid.
func (s *Snapshot) ProviderByUUID(uuid string) (int32, bool) {
	if i, ok := s.added[uuid]; ok {
		return i, i >= 0
	}
	i, ok := s.byUUID[uuid]
	return i, ok
}

// classID returns the database id of an interned class id.
func (s *Snapshot) classID(c int32) int64 {
	p := s.Provider(s.byClass[c][0])
	return p.Inventories[p.inv(c)].ClassID
}

// className returns the name of an interned class id.
func (s *Snapshot) className(id int32) string { return s.classNames[id] }

// index returns the index of the provider with that internal id.
func (s *Snapshot) index(id int64) (int32, bool) {
	lo, hi := 0, s.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.Provider(int32(m)).ID < id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return int32(lo), lo < s.n && s.Provider(int32(lo)).ID == id
}

// Memo returns build(s.Provider(i)), computed at most once per provider
// and snapshot (callers racing on the first use may each compute it; one
// result is kept). The response encoder keeps here the JSON of a provider
// that is the same in every response of this snapshot. Every caller must
// pass an equivalent build: the slot has one owner. A snapshot made by
// Update keeps the values of the providers it did not change.
func (s *Snapshot) Memo(i int32, build func(p *Provider) any) any {
	slot := &s.chunks[i>>chunkShift].memo[i&chunkMask]
	if v := slot.Load(); v != nil {
		return *v
	}
	v := build(s.Provider(i))
	slot.Store(&v)
	return v
}
