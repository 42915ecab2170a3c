package engine

import (
	"maps"
	"slices"
)

// Update returns a copy of s with the providers of changed in their new
// state and those of gone (ids) deleted, sharing everything else with s:
// it copies only the chunks that hold a changed provider (or the root of
// a tree a provider joins or leaves) and the index lists a change
// touches, so that the cost of a refresh does not grow with the number of
// providers. A changed provider is one of s, whose inventories, usage,
// traits, aggregates, parent and root may differ (a re-parented provider,
// a moved subtree: changed must then hold every provider whose root
// changed), or a new one with an id above every id of s (one created
// since), whose parent and root are in s or in changed. Providers of
// changed equal to s's cost a comparison. A deleted provider leaves its
// place empty (Provider.gone).
//
// It reports false, and returns nil, when a change is more than that: a
// provider of s with another uuid, a new provider with a lower id (or the
// id of a deleted one), an id given twice, trees that do not come out
// whole (a provider under one that is not a root, a root that stopped
// being one and keeps members, a deleted provider some provider still has
// as parent or root), or so many places left empty (over goneFloor and a
// quarter) that a new snapshot is smaller; the caller then builds one
// with NewSnapshot. s itself is never modified, so readers of s need no
// lock.
func (s *Snapshot) Update(changed []ProviderData, gone []int64) (*Snapshot, bool) {
	if len(changed) == 0 && len(gone) == 0 {
		return s, true
	}
	ps := slices.Clone(changed)
	slices.SortFunc(ps, func(a, b ProviderData) int { return cmpInt64(a.ID, b.ID) })
	u := &updater{s: s, out: new(Snapshot)}
	*u.out = *s
	if !u.place(ps) {
		return nil, false
	}
	for _, d := range ps {
		if !u.apply(d) {
			return nil, false
		}
	}
	u.detach()
	if !u.removeAll(gone, ps) || !u.attach() {
		return nil, false
	}
	if u.out.children == 0 && s.children > 0 {
		u.out.Nested = false // the last child left
	}
	u.reindex()
	return u.out, true
}

// updater builds the snapshot Update returns.
type updater struct {
	s, out *Snapshot
	own    map[int32]bool   // chunks out no longer shares with s
	added  map[int64]int32  // id -> index of the new providers
	delta  [3]map[int32]ids // class, trait and aggregate id -> the providers that gained and lost it
	cloned [3]bool          // out's class, trait and aggregate names are its own
	// sharing reports a change to which providers share or to the
	// aggregates of one that does; aggs lists the aggregates that
	// gained or lost a member.
	sharing bool
	aggs    []int32
	// ownRoots, ownTree and ownAdded say out's root list, which trees'
	// member lists and its added uuids are out's own, to change.
	ownRoots, ownAdded bool
	ownTree            map[int32]bool
	moves              []move
}

// The kinds of names, in the order of updater.delta and updater.cloned.
const (
	kindClass = iota
	kindTrait
	kindAgg
)

// ids is the change to one name's providers: indexes that gained it and
// that lost it, each ascending.
type ids struct{ gained, lost []int32 }

// place gives the new providers their indexes, after those of s, and
// makes room for them; false when one comes below s's highest id or an id
// is given twice.
func (u *updater) place(ps []ProviderData) bool {
	s, out := u.s, u.out
	last := int64(0)
	if s.n > 0 {
		last = s.Provider(int32(s.n - 1)).ID
	}
	next := int32(s.n)
	for k, d := range ps {
		if k > 0 && ps[k-1].ID == d.ID {
			return false
		}
		if _, ok := s.index(d.ID); ok {
			continue
		}
		if d.ID <= last {
			return false
		}
		if u.added == nil {
			u.added = map[int64]int32{}
		}
		u.added[d.ID] = next
		next++
	}
	out.n = int(next)
	out.chunks = slices.Clone(s.chunks)
	u.own, u.ownTree = map[int32]bool{}, map[int32]bool{}
	for len(out.chunks)*chunkSize < out.n {
		u.own[int32(len(out.chunks))] = true
		out.chunks = append(out.chunks, new(chunk))
	}
	if len(u.added) > 0 {
		u.addUUIDs(ps)
	}
	return true
}

// addUUIDs indexes the uuids of the new providers in out.added; when
// that has grown past an eighth of the providers it is merged into a new
// byUUID (mergeAdded), so that lookups stay one or two map probes and a
// merge's cost is spread over many additions.
func (u *updater) addUUIDs(ps []ProviderData) {
	out := u.out
	out.added = maps.Clone(u.s.added)
	if out.added == nil {
		out.added = map[string]int32{}
	}
	u.ownAdded = true
	for _, d := range ps {
		if i, ok := u.added[d.ID]; ok {
			out.added[d.UUID] = i
		}
	}
	u.mergeAdded()
}

// mergeAdded merges out.added into a new byUUID once it holds more than
// an eighth of the providers.
func (u *updater) mergeAdded() {
	out := u.out
	if len(out.added) <= max(1024, out.n/8) {
		return
	}
	out.byUUID = maps.Clone(out.byUUID)
	for uuid, i := range out.added {
		if i < 0 {
			delete(out.byUUID, uuid)
		} else {
			out.byUUID[uuid] = i
		}
	}
	out.added, u.ownAdded = nil, false
}

// index returns the index in out of the provider with that id.
func (u *updater) index(id int64) (int32, bool) {
	if i, ok := u.added[id]; ok {
		return i, true
	}
	return u.s.index(id)
}

// provider returns out's provider i for writing: its chunk is copied from
// s on first use, memo slots included.
func (u *updater) provider(i int32) *Provider {
	c := i >> chunkShift
	if !u.own[c] {
		u.own[c] = true
		old := u.s.chunks[c]
		nc := &chunk{providers: old.providers}
		for k := range nc.memo {
			nc.memo[k].Store(old.memo[k].Load())
		}
		u.out.chunks[c] = nc
	}
	return &u.out.chunks[c].providers[i&chunkMask]
}

// apply puts d in out (its tree is attach's business); false when d is a
// provider of s with another uuid or a deleted one, or its parent or root
// is unknown or deleted.
func (u *updater) apply(d ProviderData) bool {
	s := u.s
	i, _ := u.index(d.ID)
	isNew := int(i) >= s.n
	var p Provider
	var old *Provider
	if !isNew {
		old = s.Provider(i)
		if old.gone {
			return false
		}
		if s.same(old, d) {
			return true
		}
		p.tree, p.anchors = old.tree, old.anchors
	}
	if !u.link(&p, i, d, old) {
		return false
	}
	u.fill(&p, i, d, old)
	if !p.Sharing {
		p.anchors = nil
	}
	*u.provider(i) = p
	u.out.chunks[i>>chunkShift].memo[i&chunkMask].Store(nil)
	return true
}

// removeAll deletes the providers of gone, none of which may be in ps
// (sorted by id), children before parents (deepest first).
func (u *updater) removeAll(gone []int64, ps []ProviderData) bool {
	if len(gone) == 0 {
		return true
	}
	places := make([]int32, 0, len(gone))
	for _, id := range gone {
		i, ok := u.s.index(id)
		if !ok || u.s.Provider(i).gone {
			return false
		}
		if _, changed := slices.BinarySearchFunc(ps, id, func(d ProviderData, id int64) int { return cmpInt64(d.ID, id) }); changed {
			return false
		}
		places = append(places, i)
	}
	slices.Sort(places)
	if len(slices.Compact(places)) != len(gone) {
		return false
	}
	depth := make(map[int32]int, len(places))
	for _, i := range places {
		for p := u.out.Provider(i).Parent; p >= 0 && depth[i] <= u.out.n; p = u.out.Provider(p).Parent {
			depth[i]++
		}
	}
	slices.SortStableFunc(places, func(a, b int32) int { return depth[b] - depth[a] })
	for _, i := range places {
		if !u.remove(i) {
			return false
		}
	}
	out := u.out
	out.gone += len(places)
	return out.gone <= max(goneFloor, out.n/4)
}

// goneFloor is the number of empty places a snapshot may have whatever
// its size; past it, and past a quarter of its places, a new snapshot is
// built instead (Update reports false).
const goneFloor = 256

// remove deletes provider i, a provider of s: it leaves its root's tree
// (or, a root, the roots, once its tree holds only itself), its lookups
// and index lists. False when a provider still has it as parent or root
// (one of its tree, or one joining a tree in this update).
func (u *updater) remove(i int32) bool {
	out := u.out
	old := out.Provider(i)
	if slices.ContainsFunc(u.moves, func(m move) bool { return m.to == i || out.Provider(m.i).Parent == i }) {
		return false
	}
	if old.Root == i {
		if len(old.tree) != 1 {
			return false
		}
		u.ownedRoots()
		at, found := slices.BinarySearch(out.roots, i)
		if !found {
			return false
		}
		out.roots = slices.Delete(out.roots, at, at+1)
	} else {
		r := u.ownedTree(old.Root)
		if slices.ContainsFunc(r.tree, func(q int32) bool { return out.Provider(q).Parent == i }) {
			return false
		}
		r.tree = slices.DeleteFunc(r.tree, func(q int32) bool { return q == i })
	}
	if old.Parent >= 0 {
		out.children--
	}
	u.record(kindTrait, i, old.traits, nil)
	u.record(kindAgg, i, old.aggs, nil)
	u.record(kindClass, i, sortedCopy32(old.invClass), nil)
	u.sharing = u.sharing || old.Sharing
	if j, ok := out.ProviderByUUID(old.UUID); ok && j == i {
		u.forget(old.UUID) // not when a new provider took the uuid
	}
	*u.provider(i) = Provider{ID: old.ID, UUID: old.UUID, Parent: -1, Root: i, gone: true}
	out.chunks[i>>chunkShift].memo[i&chunkMask].Store(nil)
	return true
}

// gonePlace reports whether place i of s is that of a deleted provider.
func (s *Snapshot) gonePlace(i int32) bool { return int(i) < s.n && s.Provider(i).gone }

// forget takes uuid out of the uuid lookup.
func (u *updater) forget(uuid string) {
	out := u.out
	if !u.ownAdded {
		u.ownAdded = true
		out.added = maps.Clone(out.added)
		if out.added == nil {
			out.added = map[string]int32{}
		}
	}
	out.added[uuid] = -1
	u.mergeAdded()
}

// same reports whether d describes p as it is.
func (s *Snapshot) same(p *Provider, d ProviderData) bool {
	parent := int64(0)
	if p.Parent >= 0 {
		parent = s.Provider(p.Parent).ID
	}
	root := d.RootID
	if root == 0 {
		root = d.ID
	}
	return p.UUID == d.UUID && parent == d.ParentID && s.Provider(p.Root).ID == root &&
		slices.Equal(p.Inventories, d.Inventories) &&
		slices.Equal(p.Traits, sortedUnique(d.Traits)) && slices.Equal(p.Aggregates, sortedUnique(d.Aggregates))
}

// link sets p's identity, parent and root from d. A provider of s keeps
// its uuid; a new one, or one that changes trees, is noted (moves) for
// detach and attach to put in its tree.
func (u *updater) link(p *Provider, i int32, d ProviderData, old *Provider) bool {
	p.ID, p.UUID, p.Parent = d.ID, d.UUID, -1
	if d.ParentID != 0 {
		pi, ok := u.index(d.ParentID)
		if !ok || u.s.gonePlace(pi) {
			return false
		}
		p.Parent = pi
		u.out.Nested = true
	}
	root := d.RootID
	if root == 0 {
		root = d.ID
	}
	ri, ok := u.index(root)
	if !ok || u.s.gonePlace(ri) {
		return false
	}
	p.Root = ri
	wasChild := old != nil && old.Parent >= 0
	switch {
	case p.Parent >= 0 && !wasChild:
		u.out.children++
	case p.Parent < 0 && wasChild:
		u.out.children--
	}
	switch {
	case old == nil:
		u.moves = append(u.moves, move{i, -1, p.Root})
	case old.Root != p.Root:
		u.moves = append(u.moves, move{i, old.Root, p.Root})
	}
	return old == nil || old.UUID == p.UUID
}

// move is a provider that joins a tree: the one rooted at to, from the
// one rooted at from (-1 for a new provider).
type move struct{ i, from, to int32 }

// detach takes each moved provider out of its old tree and notes its
// aggregates as changed (the anchors of their sharing providers follow
// the roots).
func (u *updater) detach() {
	out := u.out
	for _, m := range u.moves {
		if m.from >= 0 {
			r := u.ownedTree(m.from)
			r.tree = slices.DeleteFunc(r.tree, func(q int32) bool { return q == m.i })
			u.aggs = append(u.aggs, out.Provider(m.i).aggs...)
			u.sharing = true
		}
	}
}

// attach puts each moved provider, and each new one, into its tree, adds
// the new roots and drops those left without a tree. False when that
// leaves a tree inconsistent: a provider under one that is not a root,
// or a root that stopped being one and keeps members (a move that was
// not given).
func (u *updater) attach() bool {
	out := u.out
	for _, m := range u.moves {
		if m.to == m.i { // a root now
			u.ownedRoots()
			at, _ := slices.BinarySearch(out.roots, m.i)
			out.roots = slices.Insert(out.roots, at, m.i)
		}
	}
	for _, m := range u.moves {
		if out.Provider(m.to).Root != m.to {
			return false
		}
		r := u.ownedTree(m.to)
		at, _ := slices.BinarySearch(r.tree, m.i)
		r.tree = slices.Insert(r.tree, at, m.i)
	}
	for _, m := range u.moves {
		if m.from == m.i && m.to != m.i { // no longer a root
			if len(out.Provider(m.i).tree) != 0 {
				return false
			}
			u.ownedTree(m.i).tree = nil
			u.ownedRoots()
			at, _ := slices.BinarySearch(out.roots, m.i)
			out.roots = slices.Delete(out.roots, at, at+1)
		}
	}
	return true
}

// ownedTree returns out's provider r for writing with a tree that is
// out's own to change.
func (u *updater) ownedTree(r int32) *Provider {
	p := u.provider(r)
	if !u.ownTree[r] {
		u.ownTree[r] = true
		p.tree = slices.Clone(p.tree)
	}
	return p
}

// ownedRoots makes out's root list its own to change.
func (u *updater) ownedRoots() {
	if !u.ownRoots {
		u.ownRoots = true
		u.out.roots = slices.Clone(u.out.roots)
	}
}

// fill sets p's traits, aggregates and inventories from d, interning new
// names, and records what each name gained and lost against old (nil for
// a new provider).
func (u *updater) fill(p *Provider, i int32, d ProviderData, old *Provider) {
	out := u.out
	p.Traits = sortedUnique(d.Traits)
	for _, t := range p.Traits {
		p.traits = append(p.traits, u.intern(kindTrait, &out.traits, t))
		p.Sharing = p.Sharing || t == SharingTrait
	}
	slices.Sort(p.traits)
	p.Aggregates = sortedUnique(d.Aggregates)
	for _, a := range p.Aggregates {
		p.aggs = append(p.aggs, u.intern(kindAgg, &out.aggs, a))
	}
	slices.Sort(p.aggs)
	p.Inventories = slices.Clone(d.Inventories)
	for _, inv := range p.Inventories {
		c := u.intern(kindClass, &out.classes, inv.Class)
		if int(c) == len(out.classNames) {
			out.classNames = append(slices.Clip(out.classNames), inv.Class)
		}
		p.invClass = append(p.invClass, c)
	}
	var was Provider
	if old != nil {
		was = *old
	}
	u.record(kindTrait, i, was.traits, p.traits)
	u.record(kindAgg, i, was.aggs, p.aggs)
	u.record(kindClass, i, sortedCopy32(was.invClass), sortedCopy32(p.invClass))
	if was.Sharing != p.Sharing || p.Sharing && !slices.Equal(was.aggs, p.aggs) {
		u.sharing = true
	}
}

// intern returns the id of a name of a kind, adding it to out's names
// (copied from s's on the first new one).
func (u *updater) intern(kind int, m *map[string]int32, name string) int32 {
	if id, ok := (*m)[name]; ok {
		return id
	}
	if !u.cloned[kind] {
		u.cloned[kind] = true
		*m = maps.Clone(*m)
	}
	return intern(*m, name)
}

// record notes which of the names was (old ids) and now (new ids), both
// sorted, provider i gained and lost.
func (u *updater) record(kind int, i int32, was, now []int32) {
	if slices.Equal(was, now) {
		return
	}
	if u.delta[kind] == nil {
		u.delta[kind] = map[int32]ids{}
	}
	note := func(id int32, gained bool) {
		d := u.delta[kind][id]
		if gained {
			d.gained = append(d.gained, i)
		} else {
			d.lost = append(d.lost, i)
		}
		u.delta[kind][id] = d
		if kind == kindAgg {
			u.aggs = append(u.aggs, id)
		}
	}
	for _, id := range was {
		if _, ok := slices.BinarySearch(now, id); !ok {
			note(id, false)
		}
	}
	for _, id := range now {
		if _, ok := slices.BinarySearch(was, id); !ok {
			note(id, true)
		}
	}
}

// reindex brings out's index lists in line with the recorded changes:
// the providers of each class and aggregate, the use of each trait, the
// sharing providers and their anchors.
func (u *updater) reindex() {
	out := u.out
	if d := u.delta[kindClass]; d != nil {
		out.byClass = regroup(out.byClass, len(out.classNames), d)
	}
	if d := u.delta[kindAgg]; d != nil {
		out.members = regroup(out.members, len(out.aggs), d)
	}
	if d := u.delta[kindTrait]; d != nil {
		use := make([]int32, len(out.traits))
		copy(use, out.traitUse)
		for t, c := range d {
			use[t] += int32(len(c.gained) - len(c.lost))
		}
		out.traitUse = use
	}
	if u.sharing || len(u.aggs) > 0 {
		u.reanchor()
	}
}

// regroup returns lists (one per id, n in all) with the changes applied,
// copying only the lists that change.
func regroup(lists [][]int32, n int, delta map[int32]ids) [][]int32 {
	out := make([][]int32, n)
	copy(out, lists)
	for id, d := range delta {
		slices.Sort(d.gained)
		slices.Sort(d.lost)
		out[id] = mergeSorted(out[id], d.gained, d.lost)
	}
	return out
}

// mergeSorted returns list without lost and with gained, all ascending,
// in a new slice.
func mergeSorted(list, gained, lost []int32) []int32 {
	out := make([]int32, 0, len(list)+len(gained))
	g, l := 0, 0
	for _, x := range list {
		for g < len(gained) && gained[g] < x {
			out = append(out, gained[g])
			g++
		}
		for l < len(lost) && lost[l] < x {
			l++
		}
		if l < len(lost) && lost[l] == x {
			continue
		}
		out = append(out, x)
	}
	return append(out, gained[g:]...)
}

// reanchor lists the sharing providers again and recomputes the anchors
// of those that changed or are in an aggregate that did.
func (u *updater) reanchor() {
	out := u.out
	var sharing []int32
	for _, i := range out.sharing {
		if out.Provider(i).Sharing {
			sharing = append(sharing, i)
		}
	}
	for _, c := range u.delta[kindTrait] {
		for _, i := range c.gained {
			if out.Provider(i).Sharing && !slices.Contains(sharing, i) {
				sharing = append(sharing, i)
			}
		}
	}
	slices.Sort(sharing)
	out.sharing = slices.Compact(sharing)
	slices.Sort(u.aggs)
	changed := slices.Compact(u.aggs)
	rootOf := func(q int32) int32 { return out.Provider(q).Root }
	for _, i := range out.sharing {
		p := out.Provider(i)
		if u.own[i>>chunkShift] && !u.s.sameSharing(i, p) || hasAny(p.aggs, changed) {
			u.provider(i).anchors = out.anchorsOf(p, rootOf, nil)
		}
	}
}

// sameSharing reports whether s has provider i sharing with the same
// aggregates as p (false for a provider s does not have).
func (s *Snapshot) sameSharing(i int32, p *Provider) bool {
	if int(i) >= s.n {
		return false
	}
	q := s.Provider(i)
	return q.Sharing && slices.Equal(q.aggs, p.aggs)
}

func sortedCopy32(in []int32) []int32 {
	out := slices.Clone(in)
	slices.Sort(out)
	return out
}
