package candidate

import (
	"context"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openstack-placement-go/placement/internal/engine"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/schema"
	"github.com/openstack-placement-go/placement/internal/store"
	"github.com/openstack-placement-go/placement/internal/web"
)

// ExplainParam is the query parameter of GET
// /diagnostics/allocation_candidates that names the provider to explain.
const ExplainParam = "explain_provider"

// Messages of GET /diagnostics/allocation_candidates.
const (
	msgExplainRepeat  = "Query parameter 'explain_provider' may be specified only once."
	msgExplainEmpty   = "Query parameter 'explain_provider' must name a resource provider by uuid or name."
	msgExplainUnknown = "No resource provider with uuid or name %s."
)

// Explain answers GET /diagnostics/allocation_candidates, an extension
// upstream does not have: for the query of GET /allocation_candidates,
// read and validated the same way at the same microversion (1.10+), the
// funnel of engine.Explain as JSON; with explain_provider=<uuid or name>
// also the first step that provider's tree fails. 400 for what the real
// endpoint rejects and for an unknown explain_provider; 503 past the
// timeout, as the real endpoint.
func (h Handler) Explain(w http.ResponseWriter, r *http.Request) error {
	rest, name, err := SplitExplainParam(r.URL.RawQuery)
	if err != nil {
		return err
	}
	req, err := ParseQuery(rest, web.Version(r))
	if err != nil {
		return err
	}
	ctx, cancel := h.deadline(r)
	defer cancel()
	out, err := ExplainRequest(ctx, h.Store, req, name, h.options())
	if err != nil {
		return h.bounded(ctx, err)
	}
	web.CacheHeaders(w, r, time.Time{})
	return web.JSON(w, http.StatusOK, out)
}

// deadline returns the request's context, ended after h.Timeout when the
// handler has one.
func (h Handler) deadline(r *http.Request) (context.Context, context.CancelFunc) {
	if h.Timeout > 0 {
		return context.WithTimeout(r.Context(), h.Timeout)
	}
	return r.Context(), func() {}
}

func (h Handler) options() engine.Options {
	return engine.Options{Randomize: h.Randomize, MaxCandidates: h.MaxCandidates, Strategy: h.Strategy, MemoryLimit: h.MemoryLimit}
}

// Explained is the body of GET /diagnostics/allocation_candidates.
type Explained struct {
	Groups   []engine.GroupFunnel `json:"groups"`
	Combined []engine.Step        `json:"combined"`
	Provider *ExplainedProvider   `json:"provider,omitempty"`
}

// ExplainedProvider is the verdict on the provider to explain, with its
// name.
type ExplainedProvider struct {
	Name string `json:"name"`
	*engine.Verdict
}

// ExplainRequest explains req over the snapshot the real endpoint would
// use (plus the tree of the provider to explain): name is that
// provider's uuid or name, "" for none. An unknown provider is a 400.
// placement-manage explain shares it.
func ExplainRequest(ctx context.Context, st *store.Store, req *engine.Request, name string, opt engine.Options) (*Explained, error) {
	var p store.Provider
	if name != "" {
		var err error
		if p, err = providerByUUIDOrName(ctx, st, name); err != nil {
			return nil, err
		}
	}
	snap, names, err := st.ExplainSnapshot(ctx, req, p.UUID)
	if err != nil {
		return nil, err
	}
	if k, trait, err := checkNames(req, names); err != nil {
		// The real endpoint answers an unknown name with a 400 unless
		// it finds no candidates before it gets to the name; the funnel
		// then shows where they run out (an unknown name is one no
		// provider has).
		empty, err2 := shortCircuited(ctx, st, req, k, trait, opt)
		if err2 != nil {
			return nil, err2
		}
		if !empty {
			return nil, err
		}
	}
	idx := int32(-1)
	if name != "" {
		var ok bool
		if idx, ok = snap.ProviderByUUID(p.UUID); !ok {
			// Deleted since it was looked up.
			return nil, placement.E(placement.Invalid, msgExplainUnknown, name)
		}
	}
	ex, err := engine.Explain(ctx, snap, req, opt, idx)
	if err != nil {
		return nil, err
	}
	out := &Explained{Groups: ex.Groups, Combined: ex.Combined}
	if ex.Verdict != nil {
		out.Provider = &ExplainedProvider{Name: p.Name, Verdict: ex.Verdict}
	}
	return out, nil
}

// providerByUUIDOrName finds a provider by uuid, else by name.
func providerByUUIDOrName(ctx context.Context, st *store.Store, name string) (store.Provider, error) {
	if schema.IsUUIDLike(name) {
		p, err := st.ProviderByUUID(ctx, name)
		if err == nil {
			return p, nil
		}
		if placement.KindOf(err) != placement.NotFound {
			return p, err
		}
	}
	ps, err := st.Providers(ctx, store.ProviderFilter{Name: name})
	if err != nil {
		return store.Provider{}, err
	}
	if len(ps) == 0 {
		return store.Provider{}, placement.E(placement.Invalid, msgExplainUnknown, name)
	}
	return ps[0], nil
}

// SplitExplainParam takes explain_provider out of a raw query string: it
// returns the rest, in order and as sent, and the provider named ("" when
// absent). The parameter may appear once, with a value.
func SplitExplainParam(raw string) (rest, name string, err error) {
	var keep []string
	found := false
	for _, part := range strings.FieldsFunc(raw, func(r rune) bool { return r == '&' || r == ';' }) {
		k, v, _ := strings.Cut(part, "=")
		if web.QueryUnescape(k) != ExplainParam {
			keep = append(keep, part)
			continue
		}
		if found {
			return "", "", placement.E(placement.Invalid, msgExplainRepeat).WithCode(placement.CodeQueryDuplicateKey)
		}
		found = true
		if name = web.QueryUnescape(v); strings.TrimSpace(name) == "" || !utf8.ValidString(name) {
			return "", "", placement.E(placement.Invalid, msgExplainEmpty)
		}
	}
	return strings.Join(keep, "&"), name, nil
}
