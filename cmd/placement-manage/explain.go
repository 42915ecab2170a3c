package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/openstack-placement-go/placement/internal/config"
	"github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/handler/candidate"
	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/pycompat"
	"github.com/openstack-placement-go/placement/internal/store"
)

// explainArgs are the arguments of explain and capacity.
type explainArgs struct {
	query     string // explain: the GET /allocation_candidates query
	provider  string // explain --provider: uuid or name
	version   microversion.Version
	aggregate string // capacity --aggregate
	class     string // capacity --resource-class
}

// parseExplain parses `explain QUERY [--provider NAME] [--microversion X.Y]`
// and `capacity [--aggregate UUID] [--resource-class RC]`.
func parseExplain(name string, args []string) (command, error) {
	bad := func(format string, a ...any) (command, error) {
		return command{}, fmt.Errorf(format+" (try --help)", a...)
	}
	c := command{name: name, explain: explainArgs{version: microversion.Max}}
	flags := map[string]*string{"--aggregate": &c.explain.aggregate, "--resource-class": &c.explain.class}
	var version string
	if name == "explain" {
		flags = map[string]*string{"--provider": &c.explain.provider, "--microversion": &version}
	}
	query := false
	for i := 0; i < len(args); i++ {
		flag, value, hasValue := strings.Cut(args[i], "=")
		dst, ok := flags[flag]
		switch {
		case ok:
			if value, hasValue = optionValue(args, &i, value, hasValue); !hasValue {
				return bad("%s: expected one argument", flag)
			}
			*dst = value
		case name == "explain" && !query && !strings.HasPrefix(args[i], "--"):
			c.explain.query, query = strings.TrimPrefix(args[i], "?"), true
		default:
			return bad("unknown argument %q for %s", args[i], name)
		}
	}
	if name == "explain" && !query {
		return bad("explain needs the query of GET /allocation_candidates, such as 'resources=VCPU:1'")
	}
	if version != "" {
		v, err := microversion.FromHeader([]string{"placement " + version})
		if err != nil {
			return bad("--microversion: %v", err)
		}
		if !v.AtLeast(1, 10) {
			return bad("--microversion: GET /allocation_candidates needs 1.10 or later")
		}
		c.explain.version = v
	}
	return c, nil
}

// openStore connects to the configured database.
func openStore(ctx context.Context, dsn string) (*store.Store, func(), error) {
	pool, err := store.Open(ctx, dsn, store.PoolOptions{MaxConns: 2})
	if err != nil {
		return nil, nil, err
	}
	return store.New(pool), pool.Close, nil
}

// runExplain prints the funnel of engine.Explain for the query, read as
// GET /diagnostics/allocation_candidates reads it, with the candidate
// options of the configuration.
func runExplain(ctx context.Context, a explainArgs, cfg *config.Config, dsn string, stdout io.Writer, fail func(error) int) int {
	req, err := candidate.ParseQuery(a.query, a.version)
	if err != nil {
		return fail(err)
	}
	st, done, err := openStore(ctx, dsn)
	if err != nil {
		return fail(err)
	}
	defer done()
	p := cfg.Placement
	opt := engine.Options{
		Randomize:     p.RandomizeAllocationCandidates,
		MaxCandidates: engine.MaxCandidatesFromConfig(p.MaxAllocationCandidates),
		Strategy:      engine.StrategyFromConfig(p.AllocationCandidatesGenerationStrategy),
		MemoryLimit:   int64(max(p.AllocationCandidatesMemoryLimitMB, 0)) << 20,
	}
	out, err := candidate.ExplainRequest(ctx, st, req, a.provider, opt)
	if err != nil {
		return fail(err)
	}
	printExplained(stdout, out, a.version)
	return 0
}

// printExplained prints the funnel as tables: one per group, then the
// combined steps, then the verdict on the explained provider.
func printExplained(w io.Writer, out *candidate.Explained, v microversion.Version) {
	header := []string{"Step", "Providers", "Sharing", "Roots"}
	rows := func(steps []engine.Step, candidates bool) [][]string {
		var rs [][]string
		for _, s := range steps {
			r := []string{s.Name, strconv.Itoa(s.Providers), strconv.Itoa(s.Sharing), strconv.Itoa(s.Roots)}
			if candidates {
				c := ""
				if s.Candidates != nil {
					c = strconv.Itoa(*s.Candidates)
				}
				r = append(r, c)
			}
			rs = append(rs, r)
		}
		return rs
	}
	fmt.Fprintf(w, "At microversion %s.\n", v)
	for _, g := range out.Groups {
		if g.Suffix == "" {
			fmt.Fprintln(w, "\nUnsuffixed group:")
		} else {
			fmt.Fprintf(w, "\nGroup %s:\n", g.Suffix)
		}
		printAligned(w, 1, header, rows(g.Steps, false))
	}
	fmt.Fprintln(w, "\nCombined:")
	printAligned(w, 1, append(header, "Candidates"), rows(out.Combined, true))
	if p := out.Provider; p != nil {
		fmt.Fprintf(w, "\nProvider %s (%s, root %s): ", p.Name, p.Provider, p.Root)
		switch {
		case p.Passed:
			fmt.Fprintln(w, "its tree is among the candidates.")
		case p.Group == nil:
			fmt.Fprintf(w, "fails at combined step %q:\n  %s\n", p.Step, p.Reason)
		case *p.Group == "":
			fmt.Fprintf(w, "fails at step %q of the unsuffixed group:\n  %s\n", p.Step, p.Reason)
		default:
			fmt.Fprintf(w, "fails at step %q of group %s:\n  %s\n", p.Step, *p.Group, p.Reason)
		}
	}
}

// printAligned prints a table like printTable, with the first left
// columns (names) aligned left and the others (numbers) right.
func printAligned(w io.Writer, left int, header []string, rows [][]string) {
	widths := make([]int, len(header))
	for _, r := range append([][]string{header}, rows...) {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	var border strings.Builder
	border.WriteString("+")
	for _, n := range widths {
		border.WriteString(strings.Repeat("-", n+2) + "+")
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range cells {
			pad := strings.Repeat(" ", widths[i]-len(c))
			if i < left {
				b.WriteString(" " + c + pad + " |")
			} else {
				b.WriteString(" " + pad + c + " |")
			}
		}
		fmt.Fprintln(w, b.String())
	}
	fmt.Fprintln(w, border.String())
	line(header)
	fmt.Fprintln(w, border.String())
	for _, r := range rows {
		line(r)
	}
	fmt.Fprintln(w, border.String())
}

// fullest is how many providers capacity lists as the fullest.
const fullest = 10

// runCapacity prints, per resource class, the sums over the providers
// (all, or those directly in one aggregate) of total, reserved, usable
// capacity ((total - reserved) * allocation_ratio, rounded down per
// inventory), used and free (capacity - used); then the fullest
// providers: the highest used/capacity of any of their inventories.
func runCapacity(ctx context.Context, a explainArgs, dsn string, stdout io.Writer, fail func(error) int) int {
	st, done, err := openStore(ctx, dsn)
	if err != nil {
		return fail(err)
	}
	defer done()
	invs, err := st.InventoryUsages(ctx, a.aggregate, a.class)
	if err != nil {
		return fail(err)
	}
	printCapacity(stdout, invs, a)
	return 0
}

func printCapacity(w io.Writer, invs []store.InventoryUsage, a explainArgs) {
	scope := "all providers"
	if a.aggregate != "" {
		scope = "the providers in aggregate " + a.aggregate
	}
	if len(invs) == 0 {
		fmt.Fprintf(w, "No inventory on %s.\n", scope)
		return
	}
	// Capacities may be past int64, and so may their sum.
	type sums struct {
		providers, total, reserved, used int64
		capacity                         big.Int
	}
	var classes []string
	per := map[string]*sums{}
	for _, inv := range invs {
		s := per[inv.Class]
		if s == nil {
			s = &sums{}
			per[inv.Class] = s
			classes = append(classes, inv.Class)
		}
		s.providers++
		s.total += int64(inv.Total)
		s.reserved += int64(inv.Reserved)
		c, _ := new(big.Int).SetString(string(pycompat.AppendTrunc(nil, inv.SummaryCapacity())), 10)
		s.capacity.Add(&s.capacity, c)
		s.used += inv.Used
	}
	i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
	var rows [][]string
	for _, c := range classes {
		s := per[c]
		free := new(big.Int).Sub(&s.capacity, big.NewInt(s.used))
		rows = append(rows, []string{c, i64(s.providers), i64(s.total), i64(s.reserved), s.capacity.String(), i64(s.used), free.String()})
	}
	fmt.Fprintf(w, "Capacity of %s:\n", scope)
	printAligned(w, 1, []string{"Resource class", "Providers", "Total", "Reserved", "Capacity", "Used", "Free"}, rows)

	// Each provider's fullest inventory; an inventory without capacity
	// is full when anything is allocated from it, empty otherwise.
	fill := func(inv store.InventoryUsage) float64 {
		c := inv.SummaryCapacity()
		if c <= 0 {
			if inv.Used > 0 {
				return 1
			}
			return 0
		}
		return float64(inv.Used) / c
	}
	best := map[string]store.InventoryUsage{}
	for _, inv := range invs {
		if b, ok := best[inv.ProviderUUID]; !ok || fill(inv) > fill(b) {
			best[inv.ProviderUUID] = inv
		}
	}
	var top []store.InventoryUsage
	for _, inv := range best {
		top = append(top, inv)
	}
	slices.SortFunc(top, func(x, y store.InventoryUsage) int {
		if c := cmp.Compare(fill(y), fill(x)); c != 0 {
			return c
		}
		if c := cmp.Compare(x.ProviderName, y.ProviderName); c != 0 {
			return c
		}
		return cmp.Compare(x.ProviderUUID, y.ProviderUUID)
	})
	top = top[:min(len(top), fullest)]
	rows = nil
	for _, inv := range top {
		rows = append(rows, []string{inv.ProviderName, inv.ProviderUUID, inv.Class, i64(inv.Used), string(pycompat.AppendTrunc(nil, inv.SummaryCapacity())),
			strconv.FormatFloat(100*fill(inv), 'f', 1, 64) + "%"})
	}
	fmt.Fprintf(w, "\nThe %d fullest providers (by their fullest inventory):\n", len(top))
	printAligned(w, 3, []string{"Provider", "UUID", "Resource class", "Used", "Capacity", "Full"}, rows)
}
