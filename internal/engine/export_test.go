package engine

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
