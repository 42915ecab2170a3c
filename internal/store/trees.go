package store

import (
	"cmp"
	"context"
	"slices"

	"github.com/openstack-placement-go/placement/internal/engine"
)

// The cache's provider trees: every tree by root, and which root each
// provider is in, kept in step with the published snapshot by a refresh.

// loadAll reads every provider tree (then: statements for the same round
// trip, see loadProviderData).
func (c *candidateCache) loadAll(ctx context.Context, q batcher, then ...string) (*engine.Snapshot, error) {
	data, err := loadProviderData(ctx, q, nil, then...)
	if err != nil {
		return nil, err
	}
	c.fullLoads.Add(1)
	c.trees = map[int32][]engine.ProviderData{}
	c.rootOf = make(map[int32]int32, len(data))
	for _, d := range data {
		root := int32(d.RootID)
		c.trees[root] = append(c.trees[root], d)
		c.rootOf[int32(d.ID)] = root
	}
	return c.build()
}

// build indexes the whole cache into a new snapshot.
func (c *candidateCache) build() (*engine.Snapshot, error) {
	all := make([]engine.ProviderData, 0, len(c.rootOf))
	nested := false
	for _, tree := range c.trees {
		all = append(all, tree...)
		nested = nested || len(tree) > 1
	}
	return engine.NewSnapshot(all, nested)
}

// loadChanged reloads the trees of the changed providers, old and new
// (then: statements for the same round trip, see loadProviderData).
func (c *candidateCache) loadChanged(ctx context.Context, q batcher, old *engine.Snapshot, changed []int32, then ...string) (*engine.Snapshot, error) {
	var oldRoots []int32
	for _, id := range changed {
		if r, ok := c.rootOf[id]; ok {
			oldRoots = append(oldRoots, r)
		}
	}
	data, err := loadProviderData(ctx, q, &treeSelection{roots: oldRoots, providers: changed}, then...)
	if err != nil {
		return nil, err
	}
	return c.replaceTrees(old, oldRoots, data)
}

// updateProviders applies data, the providers logged as changed
// (changed) as they are now, each alone (sorted by id), to the cache and
// to old, and returns the new snapshot: a changed provider the cache has
// and data does not was deleted. It reports false, having changed
// nothing, when that is not enough and the trees must be reloaded: a
// change Update cannot apply (a provider created below the highest id,
// or trees it cannot make consistent).
func (c *candidateCache) updateProviders(old *engine.Snapshot, changed []int32, data []engine.ProviderData) (*engine.Snapshot, bool) {
	var gone []int64
	for _, id := range changed {
		if _, cached := c.rootOf[id]; cached {
			if _, found := slices.BinarySearchFunc(data, int64(id), byID); !found {
				gone = append(gone, int64(id))
			}
		}
	}
	snap, ok := old.Update(data, gone)
	if !ok {
		return nil, false
	}
	// Update put every provider in its tree and took deleted ones out: the
	// cache's trees follow, still ascending.
	for _, id := range gone {
		root := c.rootOf[int32(id)]
		c.trees[root] = slices.DeleteFunc(c.trees[root], func(d engine.ProviderData) bool { return d.ID == id })
		if len(c.trees[root]) == 0 {
			delete(c.trees, root)
		}
		delete(c.rootOf, int32(id))
	}
	for _, d := range data {
		id, root := int32(d.ID), int32(d.RootID)
		if was, cached := c.rootOf[id]; cached && was != root { // moved
			c.trees[was] = slices.DeleteFunc(c.trees[was], func(x engine.ProviderData) bool { return x.ID == d.ID })
			if len(c.trees[was]) == 0 {
				delete(c.trees, was)
			}
		}
		tree := c.trees[root]
		if i, found := slices.BinarySearchFunc(tree, d.ID, byID); found {
			tree[i] = d
		} else {
			c.trees[root] = slices.Insert(tree, i, d)
		}
		c.rootOf[id] = root
	}
	return snap, true
}

func byID(d engine.ProviderData, id int64) int { return cmp.Compare(d.ID, id) }

// replaceTrees puts the trees of data in place of the trees rooted at
// oldRoots and returns the new snapshot: an update of old
// (engine.Snapshot.Update, with the providers missing from them deleted)
// when it can, else a new one.
func (c *candidateCache) replaceTrees(old *engine.Snapshot, oldRoots []int32, data []engine.ProviderData) (*engine.Snapshot, error) {
	newTrees := map[int32][]engine.ProviderData{}
	for _, d := range data {
		root := int32(d.RootID)
		newTrees[root] = append(newTrees[root], d)
	}
	affected := map[int32]bool{}
	for _, r := range oldRoots {
		affected[r] = true
	}
	for r := range newTrees {
		affected[r] = true
	}
	var gone []int64
	for r := range affected {
		for _, d := range c.trees[r] {
			if _, found := slices.BinarySearchFunc(data, d.ID, byID); !found {
				gone = append(gone, d.ID) // deleted (a move loads both trees)
			}
			delete(c.rootOf, int32(d.ID))
		}
		delete(c.trees, r)
	}
	for r, tree := range newTrees {
		c.trees[r] = tree
		for _, d := range tree {
			c.rootOf[int32(d.ID)] = r
		}
	}
	if snap, ok := old.Update(data, gone); ok {
		return snap, nil
	}
	return c.build()
}
