package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
)

// version is the microversion of every request the bench sends.
const version = "1.39"

// Provider is one resource provider the bench created.
type Provider struct {
	UUID  string
	Depth int // 0 for roots
}

// Dataset is what a scenario loaded: its providers and its two queries.
type Dataset struct {
	Providers  []Provider
	Query      string // GET /allocation_candidates without a limit
	LimitQuery string // the same with limit=5
}

// parallel runs fn(i) for i in [0,n) on workers goroutines and returns the
// first error, after which the remaining items are skipped.
func parallel(parent context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	var next atomic.Int64
	firstErr := fanOut(parent, max(1, min(workers, n)), func(ctx context.Context) error {
		for {
			i := int(next.Add(1) - 1)
			if i >= n || ctx.Err() != nil {
				return nil
			}
			if err := fn(ctx, i); err != nil {
				return err
			}
		}
	})
	if firstErr == nil {
		return parent.Err() // interrupted: the work is incomplete
	}
	return firstErr
}

// fanOut runs k copies of worker on goroutines and, once all have
// returned, returns the first error one of them returned. That error
// cancels the context the others were given.
func fanOut(parent context.Context, k int, worker func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var (
		once     sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	for range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := worker(ctx); err != nil {
				once.Do(func() { firstErr = err; cancel() })
			}
		}()
	}
	wg.Wait()
	return firstErr
}

type inventory map[string]int

// createProvider makes one provider with its inventory, traits and
// aggregates, each step carrying the generation the previous one returned.
func createProvider(ctx context.Context, c *Client, id, name, parent string, inv inventory, traits, aggs []string) error {
	body := map[string]any{"uuid": id, "name": name}
	if parent != "" {
		body["parent_provider_uuid"] = parent
	}
	var rp struct {
		Generation int `json:"generation"`
	}
	if err := c.Do(ctx, http.MethodPost, "/resource_providers", version, body, &rp); err != nil {
		return err
	}
	gen := rp.Generation
	var out struct {
		Generation int `json:"resource_provider_generation"`
	}
	if len(inv) > 0 {
		invs := map[string]any{}
		for rc, total := range inv {
			invs[rc] = map[string]any{"total": total}
		}
		if err := c.Do(ctx, http.MethodPut, "/resource_providers/"+id+"/inventories", version,
			map[string]any{"resource_provider_generation": gen, "inventories": invs}, &out); err != nil {
			return err
		}
		gen = out.Generation
	}
	if len(traits) > 0 {
		if err := c.Do(ctx, http.MethodPut, "/resource_providers/"+id+"/traits", version,
			map[string]any{"resource_provider_generation": gen, "traits": traits}, &out); err != nil {
			return err
		}
		gen = out.Generation
	}
	if len(aggs) > 0 {
		if err := c.Do(ctx, http.MethodPut, "/resource_providers/"+id+"/aggregates", version,
			map[string]any{"resource_provider_generation": gen, "aggregates": aggs}, &out); err != nil {
			return err
		}
	}
	return nil
}

// Flat inventory: VCPU is the scarce resource so that the claim run fills
// providers and exercises the capacity check.
var flatInventory = inventory{"VCPU": 16, "MEMORY_MB": 32768, "DISK_GB": 1000}

// loadFlat creates n compute nodes in one new aggregate; every other node
// has HW_CPU_X86_AVX2.
func loadFlat(ctx context.Context, c *Client, run string, n, workers int) (*Dataset, error) {
	agg := uuid.NewString()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	err := parallel(ctx, n, workers, func(ctx context.Context, i int) error {
		var traits []string
		if i%2 == 0 {
			traits = []string{"HW_CPU_X86_AVX2"}
		}
		return createProvider(ctx, c, ids[i], fmt.Sprintf("bench-%s-flat-%d", run, i), "", flatInventory, traits, []string{agg})
	})
	if err != nil {
		return nil, err
	}
	d := &Dataset{}
	for _, id := range ids {
		d.Providers = append(d.Providers, Provider{UUID: id})
	}
	d.Query = "/allocation_candidates?resources=VCPU:1,DISK_GB:10,MEMORY_MB:256&member_of=" + agg + "&required=HW_CPU_X86_AVX2"
	d.LimitQuery = d.Query + "&limit=5"
	return d, nil
}

// NestedQuery is the nested scenario's request: a root with shared-nothing
// DISK_GB, a NUMA node with CUSTOM_FOO and an FPGA under that same NUMA node.
const NestedQuery = "/allocation_candidates?resources=DISK_GB:10&required=COMPUTE_VOLUME_MULTI_ATTACH" +
	"&resources_COMPUTE=VCPU:1,MEMORY_MB:256&required_COMPUTE=CUSTOM_FOO" +
	"&resources_FPGA=FPGA:1&group_policy=none&same_subtree=_COMPUTE,_FPGA"

// loadNested creates n trees of 7 providers: compute node → 2 NUMA nodes →
// one FPGA and one VGPU provider each. Providers of a tree are created in
// order; trees load in parallel.
func loadNested(ctx context.Context, c *Client, run string, n, workers int) (*Dataset, error) {
	if err := c.Do(ctx, http.MethodPut, "/traits/CUSTOM_FOO", version, nil, nil); err != nil {
		return nil, err
	}
	trees := make([][]Provider, n)
	err := parallel(ctx, n, workers, func(ctx context.Context, i int) error {
		name := func(s string) string { return fmt.Sprintf("bench-%s-nested-%d-%s", run, i, s) }
		cn := uuid.NewString()
		tree := []Provider{{UUID: cn}}
		if err := createProvider(ctx, c, cn, name("cn"), "", inventory{"DISK_GB": 1000},
			[]string{"COMPUTE_VOLUME_MULTI_ATTACH"}, nil); err != nil {
			return err
		}
		for numa := range 2 {
			nid := uuid.NewString()
			traits := []string{"HW_NUMA_ROOT"}
			if numa == 0 {
				traits = append(traits, "CUSTOM_FOO")
			}
			if err := createProvider(ctx, c, nid, name(fmt.Sprintf("numa%d", numa)), cn,
				inventory{"VCPU": 16, "MEMORY_MB": 32768}, traits, nil); err != nil {
				return err
			}
			tree = append(tree, Provider{UUID: nid, Depth: 1})
			for _, leaf := range []struct {
				rc    string
				total int
			}{{"FPGA", 4}, {"VGPU", 8}} {
				lid := uuid.NewString()
				if err := createProvider(ctx, c, lid, name(fmt.Sprintf("numa%d-%s", numa, leaf.rc)), nid,
					inventory{leaf.rc: leaf.total}, nil, nil); err != nil {
					return err
				}
				tree = append(tree, Provider{UUID: lid, Depth: 2})
			}
		}
		trees[i] = tree
		return nil
	})
	if err != nil {
		return nil, err
	}
	d := &Dataset{Query: NestedQuery, LimitQuery: NestedQuery + "&limit=5"}
	for _, t := range trees {
		d.Providers = append(d.Providers, t...)
	}
	return d, nil
}

// cleanup deletes the consumers' allocations and then the providers,
// deepest first, so a shared server is left as it was.
func cleanup(ctx context.Context, c *Client, d *Dataset, consumers []string, workers int) error {
	if err := parallel(ctx, len(consumers), workers, func(ctx context.Context, i int) error {
		return c.Do(ctx, http.MethodDelete, "/allocations/"+consumers[i], version, nil, nil)
	}); err != nil {
		return err
	}
	for depth := 2; depth >= 0; depth-- {
		var ids []string
		for _, p := range d.Providers {
			if p.Depth == depth {
				ids = append(ids, p.UUID)
			}
		}
		if err := parallel(ctx, len(ids), workers, func(ctx context.Context, i int) error {
			return c.Do(ctx, http.MethodDelete, "/resource_providers/"+ids[i], version, nil, nil)
		}); err != nil {
			return err
		}
	}
	return nil
}
