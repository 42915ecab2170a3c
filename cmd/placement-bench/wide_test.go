package main

import "testing"

func TestCandidateDigest(t *testing.T) {
	t.Parallel()
	names := map[string]string{"u1": "r0/c0", "u2": "r0/c1", "v1": "r0/c0", "v2": "r0/c1"}
	a := `{"allocation_requests": [
		{"allocations": {"u1": {"resources": {"CUSTOM_GPU": 1}}}, "mappings": {"1": ["u1"], "2": ["u1"]}},
		{"allocations": {"u1": {"resources": {"CUSTOM_GPU": 1}}, "u2": {"resources": {"CUSTOM_GPU": 1}}}, "mappings": {"1": ["u1"], "2": ["u2"]}}
	], "provider_summaries": {}}`
	// The same set on another server: other uuids, other order.
	b := `{"provider_summaries": {"x": {}}, "allocation_requests": [
		{"allocations": {"v2": {"resources": {"CUSTOM_GPU": 1}}, "v1": {"resources": {"CUSTOM_GPU": 1}}}, "mappings": {"2": ["v2"], "1": ["v1"]}},
		{"allocations": {"v1": {"resources": {"CUSTOM_GPU": 1}}}, "mappings": {"2": ["v1"], "1": ["v1"]}}
	]}`
	// A different mapping is a different candidate.
	c := `{"allocation_requests": [
		{"allocations": {"u1": {"resources": {"CUSTOM_GPU": 1}}}, "mappings": {"1": ["u1"], "2": ["u1"]}},
		{"allocations": {"u1": {"resources": {"CUSTOM_GPU": 1}}, "u2": {"resources": {"CUSTOM_GPU": 1}}}, "mappings": {"1": ["u2"], "2": ["u1"]}}
	]}`
	na, da, err := candidateDigest([]byte(a), names)
	if err != nil || na != 2 {
		t.Fatalf("digest(a) = %d, %v", na, err)
	}
	if nb, db, err := candidateDigest([]byte(b), names); err != nil || nb != 2 || db != da {
		t.Errorf("digest(b) = %d %s %v, want 2 %s", nb, db, err, da)
	}
	if _, dc, err := candidateDigest([]byte(c), names); err != nil || dc == da {
		t.Errorf("digest(c) = %s %v, want a digest other than %s", dc, err, da)
	}
	if _, _, err := candidateDigest([]byte(`{"provider_summaries": {}}`), names); err == nil {
		t.Error("an answer without allocation_requests has a digest")
	}
}
