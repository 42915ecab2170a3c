package main

import (
	"context"
	"fmt"
	"math/rand"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// The shape of the load.
const (
	numRoots        = 12
	numChildren     = 4
	numShared       = 8
	numAggregates   = 3
	maxOwnedLive    = 15
	vcpuRatio       = 2.0
	allocVersion    = "1.36" // consumer generations (1.28), no consumer_type yet (1.38)
	reparentVer     = "1.37"
	accelClass      = "CUSTOM_SOAK_ACCEL"
	outageBackoff   = 100 * time.Millisecond
	conflictRetries = 3
)

var (
	soakTraits  = []string{"CUSTOM_SOAK_T0", "CUSTOM_SOAK_T1", "CUSTOM_SOAK_T2", "CUSTOM_SOAK_T3"}
	vcpuTotals  = []int{16, 24, 32, 48}
	initialVCPU = 32
)

// Soak is the load, its model of what was written, and the violations
// found while it ran.
type Soak struct {
	env    *Env
	opts   Options
	client *Client
	Stats  *Stats

	Roots, Children, Aggregates []string
	FirstGen                    int // a new consumer's generation
	// StuckSessions are database sessions seen busy for seconds.
	StuckSessions []string
	// ServerRetried is what the processes report of their retries.
	ServerRetried map[string]int

	mu         sync.Mutex
	violations []string
	shared     []*sharedConsumer
	owned      []*ownedConsumer
	attrs      map[string]*Possible[string] // "inventory <rp>", "traits <rp>", "aggregates <rp>", "parent <child>"
	vcpuMax    map[string]int               // rp → the largest VCPU total ever written
	vcpuShrunk map[string]bool              // rp → a smaller VCPU total was written
}

type sharedConsumer struct {
	UUID   string
	mu     sync.Mutex
	writes []SharedWrite
}

type ownedConsumer struct {
	UUID     string
	Project  string
	User     string
	Possible Possible[CState]
}

// NewSoak prepares the load against env.
func NewSoak(env *Env, o Options) *Soak {
	stats := newStats()
	return &Soak{
		env: env, opts: o, Stats: stats, client: newClient(stats, o.Clients),
		attrs: map[string]*Possible[string]{}, vcpuMax: map[string]int{}, vcpuShrunk: map[string]bool{},
	}
}

// Violation records a broken invariant seen during the load.
func (s *Soak) Violation(format string, args ...any) {
	s.mu.Lock()
	s.violations = append(s.violations, fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

func (s *Soak) proc(rng *rand.Rand) string {
	return s.env.Procs[rng.Intn(len(s.env.Procs))].URL
}

func uuidFrom(rng *rand.Rand) string {
	var b [16]byte
	rng.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Setup creates traits, the accelerator class, the providers with their
// inventories, the shared consumers, and learns a new consumer's generation.
func (s *Soak) Setup(ctx context.Context) error {
	rng := rand.New(rand.NewSource(s.opts.Seed))
	base := s.env.Procs[0].URL
	must := func(r Resp, what string) error {
		if !r.OK() {
			return fmt.Errorf("%s: %d %v %s", what, r.Status, r.Err, r.Body)
		}
		return nil
	}
	for _, t := range soakTraits {
		if err := must(s.client.Do(base, "setup", http.MethodPut, "/traits/"+t, "1.6", nil), "trait"); err != nil {
			return err
		}
	}
	if err := must(s.client.Do(base, "setup", http.MethodPut, "/resource_classes/"+accelClass, "1.7", nil), "class"); err != nil {
		return err
	}
	for i := 0; i < numAggregates; i++ {
		s.Aggregates = append(s.Aggregates, uuidFrom(rng))
	}
	create := func(name, parent string) (string, error) {
		u := uuidFrom(rng)
		body := map[string]any{"name": name, "uuid": u}
		if parent != "" {
			body["parent_provider_uuid"] = parent
		}
		return u, must(s.client.Do(base, "setup", http.MethodPost, "/resource_providers", "1.20", body), "provider "+name)
	}
	for i := 0; i < numRoots; i++ {
		u, err := create(fmt.Sprintf("soak-root-%d", i), "")
		if err != nil {
			return err
		}
		s.Roots = append(s.Roots, u)
		inv := rootInventory(initialVCPU)
		if err := must(s.client.Do(base, "setup", http.MethodPut, "/resource_providers/"+u+"/inventories", "1.20",
			map[string]any{"resource_provider_generation": 0, "inventories": inv}), "inventory"); err != nil {
			return err
		}
		s.attrs["inventory "+u] = &Possible[string]{States: []string{canonInventory(inv)}}
		s.attrs["traits "+u] = &Possible[string]{States: []string{""}}
		s.attrs["aggregates "+u] = &Possible[string]{States: []string{""}}
		s.vcpuMax[u] = initialVCPU
	}
	for i := 0; i < numChildren; i++ {
		parent := s.Roots[i]
		u, err := create(fmt.Sprintf("soak-child-%d", i), parent)
		if err != nil {
			return err
		}
		s.Children = append(s.Children, u)
		inv := map[string]map[string]any{accelClass: {"total": 4}}
		if err := must(s.client.Do(base, "setup", http.MethodPut, "/resource_providers/"+u+"/inventories", "1.20",
			map[string]any{"resource_provider_generation": 0, "inventories": inv}), "inventory"); err != nil {
			return err
		}
		s.attrs["parent "+u] = &Possible[string]{States: []string{parent}}
	}

	// A probe consumer tells the generation of a new consumer.
	probe := uuidFrom(rng)
	a := Allocs{s.Roots[0]: {"VCPU": 1}}
	if err := must(s.client.Do(base, "setup", http.MethodPut, "/allocations/"+probe, allocVersion, allocBody(a, nil, "soak", "soak")), "probe"); err != nil {
		return err
	}
	got, err := s.readConsumer(base, "setup", probe)
	if err != nil {
		return err
	}
	s.FirstGen = got.Gen
	if err := must(s.client.Do(base, "setup", http.MethodDelete, "/allocations/"+probe, allocVersion, nil), "probe delete"); err != nil {
		return err
	}

	for i := 0; i < numShared; i++ {
		c := &sharedConsumer{UUID: uuidFrom(rng)}
		a := Allocs{s.Roots[i%numRoots]: {"VCPU": 1, "MEMORY_MB": 256}}
		if err := must(s.client.Do(base, "setup", http.MethodPut, "/allocations/"+c.UUID, allocVersion, allocBody(a, nil, "soak-shared", "soak")), "shared consumer"); err != nil {
			return err
		}
		c.writes = append(c.writes, SharedWrite{Allocs: a.String(), Outcome: Acked})
		s.shared = append(s.shared, c)
	}
	return nil
}

func rootInventory(vcpu int) map[string]map[string]any {
	return map[string]map[string]any{
		"VCPU":      {"total": vcpu, "allocation_ratio": vcpuRatio},
		"MEMORY_MB": {"total": 65536, "reserved": 512},
		"DISK_GB":   {"total": 1000},
	}
}

// canonInventory is the part of an inventory the soak changes and checks.
func canonInventory(inv map[string]map[string]any) string {
	var parts []string
	for rc, f := range inv {
		parts = append(parts, fmt.Sprintf("%s:%v", rc, toInt(f["total"])))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func toInt(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case float64:
		return int(n)
	}
	return -1
}

func allocBody(a Allocs, gen *int, project, user string) map[string]any {
	allocs := map[string]any{}
	for rp, res := range a {
		allocs[rp] = map[string]any{"resources": res}
	}
	return map[string]any{"allocations": allocs, "consumer_generation": gen, "project_id": project, "user_id": user}
}

// readConsumer reads a consumer's state through base.
func (s *Soak) readConsumer(base, kind, uuid string) (CState, error) {
	r := s.client.Do(base, kind, http.MethodGet, "/allocations/"+uuid, allocVersion, nil)
	if !r.OK() {
		return CState{}, fmt.Errorf("GET /allocations/%s: %d %v", uuid, r.Status, r.Err)
	}
	var body struct {
		Allocations map[string]struct {
			Resources map[string]int `json:"resources"`
		} `json:"allocations"`
		ConsumerGeneration *int `json:"consumer_generation"`
	}
	if err := r.Decode(&body); err != nil {
		return CState{}, err
	}
	if len(body.Allocations) == 0 {
		return CState{}, nil
	}
	a := Allocs{}
	for rp, v := range body.Allocations {
		a[rp] = v.Resources
	}
	st := CState{Present: true, Gen: -1, Allocs: a.String()}
	if body.ConsumerGeneration != nil {
		st.Gen = *body.ConsumerGeneration
	}
	return st, nil
}

// RunLoad runs the clients until ctx ends.
func (s *Soak) RunLoad(ctx context.Context) {
	var wg sync.WaitGroup
	for i := 0; i < s.opts.Clients; i++ {
		w := &worker{s: s, id: i, rng: rand.New(rand.NewSource(s.opts.Seed*1000 + int64(i) + 1)),
			project: fmt.Sprintf("soak-project-%d", i%4), user: fmt.Sprintf("soak-user-%d", i)}
		for j := range s.Roots {
			if j%s.opts.Clients == i {
				w.roots = append(w.roots, s.Roots[j])
			}
		}
		for j := range s.Children {
			if (numRoots+j)%s.opts.Clients == i {
				w.children = append(w.children, s.Children[j])
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(ctx)
		}()
	}
	wg.Wait()
}

// worker is one client. It alone writes its own consumers and the
// attributes of the providers it owns.
type worker struct {
	s             *Soak
	id            int
	rng           *rand.Rand
	project, user string
	consumers     []*ownedConsumer
	roots         []string // whose inventory, traits and aggregates it changes
	children      []string // whose parent it changes
}

func (w *worker) run(ctx context.Context) {
	type op struct {
		weight int
		fn     func() bool
	}
	ops := []op{
		{20, w.claim}, {14, w.move}, {6, w.post}, {10, w.sharedUpdate}, {7, w.delete},
		{18, w.candidates}, {10, w.attribute},
	}
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	for ctx.Err() == nil {
		n := w.rng.Intn(total)
		for _, o := range ops {
			if n < o.weight {
				if !o.fn() {
					// An outage: do not spin.
					select {
					case <-ctx.Done():
					case <-time.After(outageBackoff):
					}
				}
				break
			}
			n -= o.weight
		}
	}
}

func (w *worker) randomAllocs() Allocs {
	rp := w.s.Roots[w.rng.Intn(len(w.s.Roots))]
	a := Allocs{rp: {"VCPU": 1 + w.rng.Intn(4), "MEMORY_MB": 256 * (1 + w.rng.Intn(8))}}
	if w.rng.Intn(10) < 3 {
		a[rp]["DISK_GB"] = 10 * (1 + w.rng.Intn(5))
	}
	if w.rng.Intn(10) < 2 {
		a[w.s.Children[w.rng.Intn(len(w.s.Children))]] = map[string]int{accelClass: 1}
	}
	return a
}

// resolve makes the consumer's state certain, reading it if needed; false
// if the read failed.
func (w *worker) resolve(c *ownedConsumer) (CState, bool) {
	if st, ok := c.Possible.Certain(); ok {
		return st, true
	}
	got, err := w.s.readConsumer(w.s.proc(w.rng), "read", c.UUID)
	if err != nil {
		return CState{}, false
	}
	if !c.Possible.Observe(got) {
		w.s.Violation("consumer %s: read %s, expected one of %v", c.UUID, got, c.Possible.States)
	}
	return got, true
}

// live returns a random owned consumer that may exist.
func (w *worker) live() *ownedConsumer {
	var live []*ownedConsumer
	for _, c := range w.consumers {
		for _, st := range c.Possible.States {
			if st.Present {
				live = append(live, c)
				break
			}
		}
	}
	if len(live) == 0 {
		return nil
	}
	return live[w.rng.Intn(len(live))]
}

func (w *worker) liveCount() int {
	n := 0
	for _, c := range w.consumers {
		if st, ok := c.Possible.Certain(); !ok || st.Present {
			n++
		}
	}
	return n
}

func (w *worker) newConsumer() *ownedConsumer {
	c := &ownedConsumer{UUID: uuidFrom(w.rng), Project: w.project, User: w.user, Possible: Possible[CState]{States: []CState{{}}}}
	w.consumers = append(w.consumers, c)
	w.s.mu.Lock()
	w.s.owned = append(w.s.owned, c)
	w.s.mu.Unlock()
	return c
}

// write sends one PUT /allocations/{c} from the certain state st.
func (w *worker) write(kind string, c *ownedConsumer, st CState, a Allocs) bool {
	var in *int
	if st.Present {
		in = &st.Gen
	}
	r := w.s.client.Do(w.s.proc(w.rng), kind, http.MethodPut, "/allocations/"+c.UUID, allocVersion, allocBody(a, in, c.Project, c.User))
	c.Possible.Apply(afterWrite(a.String(), in, w.s.FirstGen), r.Outcome())
	if r.Status == http.StatusConflict && strings.Contains(string(r.Body), "consumer generation conflict") {
		w.s.Violation("consumer %s: generation conflict on a consumer only one client writes, from %s", c.UUID, st)
	}
	return r.Outcome() != Unknown
}

func (w *worker) claim() bool {
	if w.liveCount() >= maxOwnedLive {
		return w.delete()
	}
	c := w.newConsumer()
	return w.write("claim", c, CState{}, w.randomAllocs())
}

func (w *worker) move() bool {
	c := w.live()
	if c == nil {
		return w.claim()
	}
	st, ok := w.resolve(c)
	if !ok {
		return false
	}
	if !st.Present {
		return true
	}
	return w.write("move", c, st, w.randomAllocs())
}

func (w *worker) delete() bool {
	c := w.live()
	if c == nil {
		return true
	}
	st, ok := w.resolve(c)
	if !ok {
		return false
	}
	if !st.Present {
		return true
	}
	r := w.s.client.Do(w.s.proc(w.rng), "delete", http.MethodDelete, "/allocations/"+c.UUID, allocVersion, nil)
	c.Possible.Apply(CState{}, r.Outcome())
	if r.Status == http.StatusNotFound {
		w.s.Violation("consumer %s: DELETE answered 404 for a consumer in state %s", c.UUID, st)
	}
	return r.Outcome() != Unknown
}

// post writes two or three consumers, one of them possibly new, in one
// POST /allocations.
func (w *worker) post() bool {
	var cs []*ownedConsumer
	for i := 0; i < 2; i++ {
		if c := w.live(); c != nil && !slices.Contains(cs, c) {
			cs = append(cs, c)
		}
	}
	if w.rng.Intn(2) == 0 || len(cs) == 0 {
		if w.liveCount() < maxOwnedLive {
			cs = append(cs, w.newConsumer())
		}
	}
	if len(cs) == 0 {
		return true
	}
	body := map[string]any{}
	states := make([]CState, len(cs))
	allocs := make([]Allocs, len(cs))
	for i, c := range cs {
		st, ok := w.resolve(c)
		if !ok {
			return false
		}
		states[i], allocs[i] = st, w.randomAllocs()
		var in *int
		if st.Present {
			g := st.Gen
			in = &g
		}
		body[c.UUID] = allocBody(allocs[i], in, c.Project, c.User)
	}
	r := w.s.client.Do(w.s.proc(w.rng), "post", http.MethodPost, "/allocations", allocVersion, body)
	for i, c := range cs {
		var in *int
		if states[i].Present {
			in = &states[i].Gen
		}
		c.Possible.Apply(afterWrite(allocs[i].String(), in, w.s.FirstGen), r.Outcome())
	}
	if r.Status == http.StatusConflict && strings.Contains(string(r.Body), "consumer generation conflict") {
		w.s.Violation("POST /allocations: generation conflict on consumers only one client writes")
	}
	return r.Outcome() != Unknown
}

// sharedUpdate reads a shared consumer and writes it with the generation
// read; other clients do the same, so conflicts are expected.
func (w *worker) sharedUpdate() bool {
	c := w.s.shared[w.rng.Intn(len(w.s.shared))]
	for attempt := 0; attempt < conflictRetries; attempt++ {
		base := w.s.proc(w.rng)
		st, err := w.s.readConsumer(base, "read", c.UUID)
		if err != nil {
			return false
		}
		if !st.Present {
			w.s.Violation("shared consumer %s is gone", c.UUID)
			return true
		}
		a := w.randomAllocs()
		g := st.Gen
		r := w.s.client.Do(w.s.proc(w.rng), "shared", http.MethodPut, "/allocations/"+c.UUID, allocVersion, allocBody(a, &g, "soak-shared", "soak"))
		c.mu.Lock()
		c.writes = append(c.writes, SharedWrite{In: &g, Allocs: a.String(), Outcome: r.Outcome()})
		c.mu.Unlock()
		if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "consumer generation conflict") {
			return r.Outcome() != Unknown
		}
		w.s.Stats.Retry()
	}
	return true
}

var candidateQueries = []string{
	"resources=VCPU:2,MEMORY_MB:1024",
	"resources=VCPU:1&required=CUSTOM_SOAK_T0",
	"resources=VCPU:1,CUSTOM_SOAK_ACCEL:1",
	"resources=DISK_GB:10&member_of=",
}

func (s *Soak) candidateQuery(i int) string {
	q := candidateQueries[i]
	if strings.HasSuffix(q, "member_of=") {
		q += s.Aggregates[0]
	}
	return q
}

func (w *worker) candidates() bool {
	q := w.s.candidateQuery(w.rng.Intn(len(candidateQueries))) + "&limit=10"
	r := w.s.client.Do(w.s.proc(w.rng), "candidates", http.MethodGet, "/allocation_candidates?"+q, allocVersion, nil)
	return r.Status != 0 && r.Status < 500
}

// attribute changes one attribute of a provider the worker owns: the
// inventory (often shrinking it), the traits, the aggregates, or the
// parent of a child.
func (w *worker) attribute() bool {
	if len(w.roots) == 0 && len(w.children) == 0 {
		return w.candidates()
	}
	n := w.rng.Intn(len(w.roots)*3 + len(w.children))
	if n >= len(w.roots)*3 {
		return w.reparent(w.children[n-len(w.roots)*3])
	}
	rp := w.roots[n/3]
	switch n % 3 {
	case 0:
		return w.inventory(rp)
	case 1:
		return w.providerSet(rp, "traits", soakTraits)
	default:
		return w.providerSet(rp, "aggregates", w.s.Aggregates)
	}
}

func (w *worker) observe(key, got string) {
	w.s.mu.Lock()
	p := w.s.attrs[key]
	w.s.mu.Unlock()
	if !p.Observe(got) {
		w.s.Violation("%s: read %q, expected one of %q", key, got, p.States)
	}
}

func (w *worker) apply(key, next string, o Outcome) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	w.s.attrs[key].Apply(next, o)
}

func (w *worker) inventory(rp string) bool {
	key := "inventory " + rp
	for attempt := 0; attempt < conflictRetries; attempt++ {
		base := w.s.proc(w.rng)
		r := w.s.client.Do(base, "read", http.MethodGet, "/resource_providers/"+rp+"/inventories", allocVersion, nil)
		if !r.OK() {
			return false
		}
		var cur struct {
			Gen         int                       `json:"resource_provider_generation"`
			Inventories map[string]map[string]any `json:"inventories"`
		}
		if err := r.Decode(&cur); err != nil {
			w.s.Violation("%s: %v", key, err)
			return true
		}
		w.observe(key, canonInventory(cur.Inventories))
		vcpu := vcpuTotals[w.rng.Intn(len(vcpuTotals))]
		inv := rootInventory(vcpu)
		r = w.s.client.Do(w.s.proc(w.rng), "inventory", http.MethodPut, "/resource_providers/"+rp+"/inventories", allocVersion,
			map[string]any{"resource_provider_generation": cur.Gen, "inventories": inv})
		w.apply(key, canonInventory(inv), r.Outcome())
		if r.Outcome() != Rejected {
			// Over-capacity relief lets usage stay above a shrunk
			// capacity, never above the largest one there was.
			w.s.mu.Lock()
			w.s.vcpuMax[rp] = max(w.s.vcpuMax[rp], vcpu)
			if vcpu < toInt(cur.Inventories["VCPU"]["total"]) {
				w.s.vcpuShrunk[rp] = true
			}
			w.s.mu.Unlock()
		}
		if r.Status != http.StatusConflict {
			return r.Outcome() != Unknown
		}
		w.s.Stats.Retry()
	}
	return true
}

// providerSet replaces the traits or aggregates of rp with a random subset
// of all.
func (w *worker) providerSet(rp, what string, all []string) bool {
	key := what + " " + rp
	for attempt := 0; attempt < conflictRetries; attempt++ {
		r := w.s.client.Do(w.s.proc(w.rng), "read", http.MethodGet, "/resource_providers/"+rp+"/"+what, allocVersion, nil)
		if !r.OK() {
			return false
		}
		var cur map[string]any
		if err := r.Decode(&cur); err != nil {
			w.s.Violation("%s: %v", key, err)
			return true
		}
		var have []string
		for _, v := range cur[what].([]any) {
			have = append(have, v.(string))
		}
		w.observe(key, canonSet(have))
		var next []string
		for _, v := range all {
			if w.rng.Intn(2) == 0 {
				next = append(next, v)
			}
		}
		if next == nil {
			next = []string{}
		}
		r = w.s.client.Do(w.s.proc(w.rng), what, http.MethodPut, "/resource_providers/"+rp+"/"+what, allocVersion,
			map[string]any{"resource_provider_generation": cur["resource_provider_generation"], what: next})
		w.apply(key, canonSet(next), r.Outcome())
		if r.Status != http.StatusConflict {
			return r.Outcome() != Unknown
		}
		w.s.Stats.Retry()
	}
	return true
}

func canonSet(v []string) string {
	v = slices.Clone(v)
	sort.Strings(v)
	return strings.Join(v, ",")
}

// reparent moves a child under a random root (microversion 1.37).
func (w *worker) reparent(child string) bool {
	key := "parent " + child
	r := w.s.client.Do(w.s.proc(w.rng), "read", http.MethodGet, "/resource_providers/"+child, reparentVer, nil)
	if !r.OK() {
		return false
	}
	var cur struct {
		Name   string `json:"name"`
		Parent string `json:"parent_provider_uuid"`
	}
	if err := r.Decode(&cur); err != nil {
		w.s.Violation("%s: %v", key, err)
		return true
	}
	w.observe(key, cur.Parent)
	parent := w.s.Roots[w.rng.Intn(len(w.s.Roots))]
	r = w.s.client.Do(w.s.proc(w.rng), "reparent", http.MethodPut, "/resource_providers/"+child, reparentVer,
		map[string]any{"name": cur.Name, "parent_provider_uuid": parent})
	w.apply(key, parent, r.Outcome())
	return r.Outcome() != Unknown
}
