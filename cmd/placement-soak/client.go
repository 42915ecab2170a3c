package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Stats counts requests by kind and status label ("200", "503", "conn" for
// a refused connection, "err" for any other transport error).
type Stats struct {
	mu        sync.Mutex
	counts    map[string]map[string]int
	start     time.Time
	failures  []time.Duration // since start: 5xx and transport errors
	slow      []string        // a sample of requests that took over slowRequest
	retries   int
	errors5x  []string // a sample of 500 responses
	errors400 []string // a sample of 400 responses (the soak sends only valid requests)
}

// slowRequest is a response time worth reporting.
const slowRequest = 5 * time.Second

func newStats() *Stats { return &Stats{counts: map[string]map[string]int{}, start: time.Now()} }

// Failures counts 5xx responses and transport errors between from and to
// (since the start).
func (st *Stats) Failures(from, to time.Duration) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for _, t := range st.failures {
		if t >= from && t <= to {
			n++
		}
	}
	return n
}

func (st *Stats) observe(label string, took time.Duration, what string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if label == "conn" || label == "err" || label[0] == '5' {
		st.failures = append(st.failures, time.Since(st.start))
	}
	if took > slowRequest && len(st.slow) < 20 {
		st.slow = append(st.slow, fmt.Sprintf("at %s: %s took %s (%s)", (time.Since(st.start)-took).Round(time.Millisecond), what, took.Round(time.Millisecond), label))
	}
}

func (st *Stats) add(kind, label string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	m := st.counts[kind]
	if m == nil {
		m = map[string]int{}
		st.counts[kind] = m
	}
	m[label]++
}

// Retry counts a request the client repeats after a conflict or an outage.
func (st *Stats) Retry() {
	st.mu.Lock()
	st.retries++
	st.mu.Unlock()
}

func (st *Stats) note500(s string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.errors5x) < 20 {
		st.errors5x = append(st.errors5x, s)
	}
}

func (st *Stats) note400(s string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.errors400) < 20 {
		st.errors400 = append(st.errors400, s)
	}
}

// Count returns the number of requests of kind with label ("" any).
func (st *Stats) Count(kind, label string) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for k, m := range st.counts {
		if kind != "" && k != kind {
			continue
		}
		for l, c := range m {
			if label == "" || l == label {
				n += c
			}
		}
	}
	return n
}

// Kinds returns the kinds seen, sorted, and the labels seen, sorted.
func (st *Stats) Kinds() (kinds, labels []string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	seen := map[string]bool{}
	for k, m := range st.counts {
		kinds = append(kinds, k)
		for l := range m {
			if !seen[l] {
				seen[l] = true
				labels = append(labels, l)
			}
		}
	}
	sort.Strings(kinds)
	sort.Strings(labels)
	return kinds, labels
}

// Client sends requests to the processes as the noauth2 admin.
type Client struct {
	http  *http.Client
	stats *Stats
}

func newClient(stats *Stats, conns int) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conns * 4
	tr.MaxIdleConnsPerHost = conns * 2
	return &Client{http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, stats: stats}
}

// Resp is a response: Status 0 means none arrived (Err says why).
type Resp struct {
	Status int
	Body   []byte
	Err    error
}

// Outcome classifies the response of a write.
func (r Resp) Outcome() Outcome { return outcomeOf(r.Status) }

// OK reports a 2xx.
func (r Resp) OK() bool { return r.Status >= 200 && r.Status < 300 }

// Decode unmarshals the body into v.
func (r Resp) Decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("decoding %d response: %w", r.Status, err)
	}
	return nil
}

// Do sends one request to base, counted under kind. Requests are not tied
// to the load's context: a request in flight when the load stops finishes,
// so that its outcome is known.
func (c *Client) Do(base, kind, method, path, version string, body any) Resp {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			panic(err) // our own bodies always marshal
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, base+path, rd)
	if err != nil {
		panic(err)
	}
	req.Header.Set("X-Auth-Token", "admin")
	req.Header.Set("OpenStack-API-Version", "placement "+version)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	t0 := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		label := "err"
		if errors.Is(err, syscall.ECONNREFUSED) {
			label = "conn"
		}
		c.stats.add(kind, label)
		c.stats.observe(label, time.Since(t0), method+" "+base+path)
		return Resp{Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.stats.add(kind, "err")
		c.stats.observe("err", time.Since(t0), method+" "+base+path)
		return Resp{Err: err}
	}
	c.stats.add(kind, strconv.Itoa(resp.StatusCode))
	c.stats.observe(strconv.Itoa(resp.StatusCode), time.Since(t0), method+" "+base+path)
	if resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable {
		c.stats.note500(fmt.Sprintf("%s %s%s: %d %s", method, base, path, resp.StatusCode, strings.TrimSpace(string(data))))
	}
	if resp.StatusCode == http.StatusBadRequest {
		c.stats.note400(fmt.Sprintf("%s %s%s: %s", method, base, path, strings.TrimSpace(string(data))))
	}
	return Resp{Status: resp.StatusCode, Body: data}
}
