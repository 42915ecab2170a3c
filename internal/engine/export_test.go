package engine

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// SetTrace makes the generator run with opt tell trace the anchor of every
// candidate it generates.
func SetTrace(opt *Options, trace func(anchor int32)) { opt.trace = trace }

// NarrowAlways makes the generator narrow its walk by member_of even
// where the aggregates are too large for that to pay off.
func NarrowAlways(opt *Options) { opt.narrowAlways = true }

// LookaheadAlways makes the generator check, before placing each group,
// that the groups left can still fit, from the start of every walk.
func LookaheadAlways(opt *Options) { opt.lookaheadAlways = true }

// SubtreeAlways makes the generator narrow the options of every group of
// a same_subtree constraint to those that can keep it, whatever their
// number.
func SubtreeAlways(opt *Options) { opt.subtreeAlways = true }

// StepRoots is the roots a funnel step keeps, ascending.
func StepRoots(s Step) []int32 { return s.roots }

// ClearStepRoots forgets them, for comparing steps by their counts.
func ClearStepRoots(s *Step) { s.roots = nil }

// SnapshotRoots is the snapshot's root providers.
func SnapshotRoots(s *Snapshot) []int32 { return s.roots }

// ChunkSize is the number of providers a snapshot chunk holds.
const ChunkSize = chunkSize

// Chunks is the number of chunks of s.
func Chunks(s *Snapshot) int { return len(s.chunks) }

// SharesChunk reports whether a and b hold chunk c in common.
func SharesChunk(a, b *Snapshot, c int) bool { return a.chunks[c] == b.chunks[c] }

// Index is the position of the provider with id in s.
func Index(s *Snapshot, id int64) (int32, bool) { return s.index(id) }

// UpstreamTreeOrder is offeredUnder's replay of upstream's set for the
// unsuffixed group of req: each root id's position in upstream's order,
// and the (provider, root, class) ids in the set.
func UpstreamTreeOrder(s *Snapshot, req *Request) (map[int64]int, map[[3]int64]struct{}) {
	for _, grp := range req.Groups {
		if grp.Suffix == "" {
			u := upstreamTreesOf(s, req, &grp)
			return u.rank, u.members
		}
	}
	return map[int64]int{}, nil
}

// DumpSnapshot renders everything a snapshot answers with: its providers
// with their trees and anchors, the roots and sharing providers, and the
// providers of each class, trait and aggregate a lookup knows, by ids
// and names, so that two snapshots of the same data compare equal
// however they were made.
func DumpSnapshot(s *Snapshot) string {
	var b strings.Builder
	id := func(list []int32) []int64 {
		var out []int64
		for _, i := range list {
			out = append(out, s.Provider(i).ID)
		}
		return out
	}
	fmt.Fprintf(&b, "n=%d nested=%v roots=%v sharing=%v\n", s.Len()-s.gone, s.Nested, id(s.roots), id(s.sharing))
	for i := range int32(s.Len()) {
		p := s.Provider(i)
		if p.gone {
			if at, ok := s.ProviderByUUID(p.UUID); ok && at == i {
				fmt.Fprintf(&b, "deleted %d still found by uuid %q\n", p.ID, p.UUID)
			}
			continue
		}
		parent := int64(0)
		if p.Parent >= 0 {
			parent = s.Provider(p.Parent).ID
		}
		at, ok := s.ProviderByUUID(p.UUID)
		fmt.Fprintf(&b, "%d %s byUUID=%d,%v parent=%d root=%d traits=%v aggs=%v inv=%v sharing=%v tree=%v anchors=%v\n",
			p.ID, p.UUID, s.Provider(at).ID, ok, parent, s.Provider(p.Root).ID, p.Traits, p.Aggregates, p.Inventories, p.Sharing,
			id(p.tree), id(p.anchors))
	}
	for _, name := range slices.Sorted(maps.Keys(s.classes)) {
		if c, ok := s.classIndex(name); ok {
			fmt.Fprintf(&b, "class %s: %v\n", name, id(s.byClass[c]))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.aggs)) {
		if a, ok := s.aggIndex(name); ok {
			fmt.Fprintf(&b, "aggregate %s: %v\n", name, id(s.members[a]))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.traits)) {
		if t, ok := s.traitIndex(name); ok {
			fmt.Fprintf(&b, "trait %s: %d\n", name, s.traitUse[t])
		}
	}
	return b.String()
}

// Gone is the number of places of s that deleted providers left empty.
func Gone(s *Snapshot) int { return s.gone }
