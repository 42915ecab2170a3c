package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Report prints the summary tables and reports whether every check passed.
func Report(out io.Writer, s *Soak, faults []*Fault, checks []*Check, elapsed time.Duration) bool {
	reportRequests(out, s, elapsed)
	reportRetries(out, s)
	reportFaults(out, faults)
	return reportChecks(out, faults, checks)
}

// reportRequests prints the requests by kind and status.
func reportRequests(out io.Writer, s *Soak, elapsed time.Duration) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	kinds, labels := s.Stats.Kinds()
	fmt.Fprintf(out, "\nRequests by kind and status (%s of load; conn = refused, err = other transport error)\n", elapsed.Round(time.Second))
	fmt.Fprintf(tw, "kind\t%s\ttotal\t2xx/s\t\n", strings.Join(labels, "\t"))
	for _, k := range kinds {
		fmt.Fprintf(tw, "%s\t", k)
		ok := 0
		for _, l := range labels {
			n := s.Stats.Count(k, l)
			if strings.HasPrefix(l, "2") {
				ok += n
			}
			fmt.Fprintf(tw, "%d\t", n)
		}
		rate := fmt.Sprintf("%.1f", float64(ok)/elapsed.Seconds())
		if k == "setup" || k == "final" || k == "probe" {
			rate = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t\n", s.Stats.Count(k, ""), rate)
	}
	fmt.Fprintf(tw, "all\t")
	for _, l := range labels {
		fmt.Fprintf(tw, "%d\t", s.Stats.Count("", l))
	}
	fmt.Fprintf(tw, "%d\t\t\n", s.Stats.Count("", ""))
	tw.Flush()
}

// reportRetries prints the client's and the servers' retries, the writes
// of unknown outcome, and the slow requests and busy database sessions.
func reportRetries(out io.Writer, s *Soak) {
	unknown := 0
	for _, c := range s.owned {
		unknown += c.Possible.Unknowns
	}
	for _, c := range s.shared {
		for _, w := range c.writes {
			if w.Outcome == Unknown {
				unknown++
			}
		}
	}
	for _, a := range s.attrs {
		unknown += a.Unknowns
	}
	fmt.Fprintf(out, "\nClient retries after a conflict: %d. Writes of unknown outcome (5xx, transport error), reconciled: %d. Consumers: %d owned, %d shared.\n",
		s.Stats.retries, unknown, len(s.owned), len(s.shared))
	reasons := []string{}
	for r, n := range s.ServerRetried {
		reasons = append(reasons, fmt.Sprintf("%s %d", r, n))
	}
	sort.Strings(reasons)
	if len(reasons) == 0 {
		reasons = append(reasons, "none")
	}
	fmt.Fprintf(out, "Server-side retries of the allocation write (running processes' /metrics): %s.\n", strings.Join(reasons, ", "))

	s.Stats.mu.Lock()
	if len(s.Stats.slow) > 0 {
		fmt.Fprintf(out, "\nSlow requests (over %s):\n  %s\n", slowRequest, strings.Join(s.Stats.slow, "\n  "))
	}
	s.Stats.mu.Unlock()

	if len(s.StuckSessions) > 0 {
		fmt.Fprintf(out, "\nDatabase sessions busy for over 3 s:\n  %s\n", strings.Join(s.StuckSessions, "\n  "))
	}
}

// reportFaults prints the faults with their recovery times.
func reportFaults(out io.Writer, faults []*Fault) {
	if len(faults) == 0 {
		return
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(out, "\nFaults (recovery: from the end of the fault to the first successful request, per process)\n")
	fmt.Fprintf(tw, "at\tfault\tdetail\tlasted\trecovery\tfailed requests\tresult\t\n")
	for _, f := range faults {
		var rec []string
		for _, d := range f.Recovery {
			if d < 0 {
				rec = append(rec, "never")
			} else {
				rec = append(rec, d.Round(time.Millisecond).String())
			}
		}
		result := "ok"
		if f.Err != nil {
			result = f.Err.Error()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t\n", f.Start.Round(time.Second), f.Kind, f.Detail,
			(f.End - f.Start).Round(100*time.Millisecond), strings.Join(rec, " "), f.Failed, result)
	}
	tw.Flush()
}

// reportChecks prints the invariant checks and the verdict, and reports
// whether every check passed and every fault was recovered from.
func reportChecks(out io.Writer, faults []*Fault, checks []*Check) bool {
	fmt.Fprintf(out, "\nInvariant checks\n")
	pass := true
	for _, f := range faults {
		for _, d := range f.Recovery {
			if d < 0 {
				pass = false
			}
		}
		if f.Err != nil {
			pass = false
		}
	}
	for _, c := range checks {
		status := "PASS"
		if len(c.Violations) > 0 {
			status, pass = "FAIL", false
		}
		fmt.Fprintf(out, "  %s  %s (%d checked)\n", status, c.Name, c.Checked)
		for i, v := range c.Violations {
			if i == 10 {
				fmt.Fprintf(out, "        … %d more\n", len(c.Violations)-i)
				break
			}
			fmt.Fprintf(out, "        %s\n", v)
		}
	}
	if pass {
		fmt.Fprintln(out, "\nplacement-soak: PASS")
	} else {
		fmt.Fprintln(out, "\nplacement-soak: FAIL")
	}
	return pass
}
