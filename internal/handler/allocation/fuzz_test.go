package allocation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/openstack-placement-go/placement/internal/gabbi"
	"github.com/openstack-placement-go/placement/internal/microversion"
	"github.com/openstack-placement-go/placement/internal/placement"
	"github.com/openstack-placement-go/placement/internal/store"
)

const fuzzConsumer = "7b0c4b9e-2f0d-4a6e-9a55-3c2d1e0f9a88"

// fuzzRequest is a request with body at microversion 1.minor.
func fuzzRequest(method string, body []byte, minor int) *http.Request {
	r := httptest.NewRequest(method, "/allocations", bytes.NewReader(body))
	return r.WithContext(microversion.NewContext(r.Context(), microversion.V1(minor)))
}

// minorOf reads the minor version of an OpenStack-API-Version header value
// such as "placement 1.28"; latest and absent give 39 and 0.
func minorOf(h string) int {
	_, v, _ := strings.Cut(h, "placement ")
	if v == "latest" {
		return 39
	}
	var major, minor int
	if n, _ := fmt.Sscanf(v, "%d.%d", &major, &minor); n != 2 {
		return 0
	}
	return minor
}

// FuzzDecodeAllocations: no PUT or POST /allocations body makes decoding,
// validation or normalisation panic; a refusal is always a 400; and at
// 1.12+ what a PUT stored, rendered as GET /allocations/{consumer} shows
// it, can be PUT back and normalises to the same write.
func FuzzDecodeAllocations(f *testing.F) {
	for _, s := range gabbi.MustSeeds(f, "../../../gabbits") {
		switch {
		case s.Method == "PUT" && strings.HasPrefix(s.Path, "/allocations/") && len(s.Body) > 0:
			f.Add(s.Body, minorOf(s.Headers["openstack-api-version"]), false)
		case s.Method == "POST" && s.Path == "/allocations" && len(s.Body) > 0:
			f.Add(s.Body, minorOf(s.Headers["openstack-api-version"]), true)
		}
	}
	h := Handler{IncompleteProjectID: "p0", IncompleteUserID: "u0"}
	f.Fuzz(func(t *testing.T, body []byte, minor int, post bool) {
		minor = ((minor % 40) + 40) % 40
		if post {
			if minor < 13 {
				minor = 13
			}
			set, err := decodePost(fuzzRequest("POST", body, minor))
			if err != nil {
				wantClientError(t, body, err)
				return
			}
			for _, w := range set {
				checkWrite(t, body, w)
			}
			return
		}
		write, err := h.decodePut(fuzzRequest("PUT", body, minor), fuzzConsumer)
		if err != nil {
			wantClientError(t, body, err)
			return
		}
		checkWrite(t, body, write)
		if minor < 12 || len(write.Allocations) == 0 {
			return
		}
		// Round trip through the GET form.
		l := store.ConsumerAllocationList{ProjectID: write.ProjectID, UserID: write.UserID, ConsumerType: write.ConsumerType}
		if write.Generation != nil {
			l.Generation = *write.Generation
		}
		for rp, res := range write.Allocations {
			for rc, n := range res {
				l.Allocations = append(l.Allocations, store.Allocation{ProviderUUID: rp, ResourceClass: rc, Used: n, ProviderGeneration: 3})
			}
		}
		got, err := json.Marshal(consumerBody(microversion.V1(minor), l))
		if err != nil {
			t.Fatal(err)
		}
		again, err := h.decodePut(fuzzRequest("PUT", got, minor), fuzzConsumer)
		if err != nil {
			t.Fatalf("GET form %s of PUT body %q refused: %v", got, body, err)
		}
		if !reflect.DeepEqual(again.Allocations, write.Allocations) || again.ProjectID != write.ProjectID || again.UserID != write.UserID {
			t.Fatalf("PUT %q stored %+v; its GET form %s normalises to %+v", body, write, got, again)
		}
	})
}

func wantClientError(t *testing.T, body []byte, err error) {
	t.Helper()
	if placement.KindOf(err) != placement.Invalid {
		t.Fatalf("body %q: %v (kind %v), want a 400", body, err, placement.KindOf(err))
	}
}

// checkWrite checks what normalisation promises the write path.
func checkWrite(t *testing.T, body []byte, w placement.ConsumerAllocations) {
	t.Helper()
	if w.ProjectID == "" || w.UserID == "" {
		t.Fatalf("body %q: empty project or user in %+v", body, w)
	}
	for rp, res := range w.Allocations {
		for rc, n := range res {
			if n < 1 {
				t.Fatalf("body %q: %s %s amount %d", body, rp, rc, n)
			}
		}
	}
}
