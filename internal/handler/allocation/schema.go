package allocation

import (
	"strings"

	"github.com/openstack-placement-go/placement/internal/schema"
)

// The JSON schemas of the allocation bodies, one per microversion range,
// spelled out like upstream's (no $ref, so that validation messages name
// the same schema paths). The reshaper's schema (reshaper.go) reuses the
// fragments.
const (
	resourcesJSON = `{"type": "object", "minProperties": 1,
		"patternProperties": {"^[A-Z0-9_]+$": {"type": "integer", "minimum": 1}},
		"additionalProperties": false}`

	listJSON = `{"type": "array", "minItems": 1, "items": {"type": "object",
		"properties": {
			"resource_provider": {"type": "object",
				"properties": {"uuid": {"type": "string", "format": "uuid"}},
				"additionalProperties": false, "required": ["uuid"]},
			"resources": ` + resourcesJSON + `},
		"required": ["resource_provider", "resources"],
		"additionalProperties": false}}`

	extIDJSON = `{"type": "string", "minLength": 1, "maxLength": 255}`

	consumerGenerationJSON = `{"type": ["integer", "null"], "additionalProperties": false}`

	// mappingsJSON is the 1.34 "mappings" member: accepted and ignored.
	mappingsJSON = `{"type": "object", "minProperties": 1,
		"patternProperties": {"[a-zA-Z0-9_-]{1,64}": {"type": "array", "minItems": 1,
			"items": {"type": "string", "format": "uuid"}}}}`

	consumerTypeJSON = `{"type": "string", "pattern": "^[A-Z0-9_]+$", "minLength": 1, "maxLength": 255}`
)

// dictJSON is the 1.12+ allocations object; minProperties is "0" or "1".
func dictJSON(minProperties string) string {
	return `{"type": "object", "minProperties": ` + minProperties + `,
		"patternProperties": {"^[0-9a-fA-F-]{36}$": {"type": "object",
			"properties": {"generation": {"type": "integer"}, "resources": ` + resourcesJSON + `},
			"required": ["resources"], "additionalProperties": false}},
		"additionalProperties": false}`
}

// objectJSON builds an object schema from ordered "name": schema pairs.
// Keyword order decides which of two equally deep validation errors is
// reported, so it follows upstream: the list-form schemas list "required"
// before "additionalProperties", the dict-form ones after.
func objectJSON(requiredFirst bool, required []string, props ...string) string {
	var b strings.Builder
	b.WriteString(`{"type": "object", "properties": {`)
	for i := 0; i < len(props); i += 2 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`"` + props[i] + `": ` + props[i+1])
	}
	req := `"required": ["` + strings.Join(required, `", "`) + `"]`
	if requiredFirst {
		b.WriteString(`}, ` + req + `, "additionalProperties": false}`)
	} else {
		b.WriteString(`}, "additionalProperties": false, ` + req + `}`)
	}
	return b.String()
}

// entryJSON returns the per-consumer object of the 1.12+ dict form (PUT
// body, POST and reshaper values) at a microversion's feature level:
// minAllocs "1" before 1.28 for PUT, generation from 1.28, mappings from
// 1.34, consumer_type from 1.38.
func entryJSON(minAllocs string, generation, mappings, consumerType bool) string {
	req := []string{"allocations", "project_id", "user_id"}
	props := []string{"allocations", dictJSON(minAllocs), "project_id", extIDJSON, "user_id", extIDJSON}
	if generation {
		props = append(props, "consumer_generation", consumerGenerationJSON)
		req = append(req, "consumer_generation")
	}
	if mappings {
		props = append(props, "mappings", mappingsJSON)
	}
	if consumerType {
		props = append(props, "consumer_type", consumerTypeJSON)
		req = append(req, "consumer_type")
	}
	return objectJSON(false, req, props...)
}

// consumersJSON is the POST /allocations body (and the reshaper's
// allocations member with minProperties 0): consumer uuid → entry.
func consumersJSON(minProperties, entry string) string {
	return `{"type": "object", "minProperties": ` + minProperties + `, "additionalProperties": false,
		"patternProperties": {"^[0-9a-fA-F-]{36}$": ` + entry + `}}`
}

var (
	put10  = schema.MustCompile("allocations put 1.0", objectJSON(true, []string{"allocations"}, "allocations", listJSON))
	put18  = schema.MustCompile("allocations put 1.8", objectJSON(true, []string{"allocations", "project_id", "user_id"}, "allocations", listJSON, "project_id", extIDJSON, "user_id", extIDJSON))
	put112 = schema.MustCompile("allocations put 1.12", entryJSON("1", false, false, false))
	put128 = schema.MustCompile("allocations put 1.28", entryJSON("0", true, false, false))
	put134 = schema.MustCompile("allocations put 1.34", entryJSON("0", true, true, false))
	put138 = schema.MustCompile("allocations put 1.38", entryJSON("0", true, true, true))

	post113 = schema.MustCompile("allocations post 1.13", consumersJSON("1", entryJSON("0", false, false, false)))
	post128 = schema.MustCompile("allocations post 1.28", consumersJSON("1", entryJSON("0", true, false, false)))
	post134 = schema.MustCompile("allocations post 1.34", consumersJSON("1", entryJSON("0", true, true, false)))
	post138 = schema.MustCompile("allocations post 1.38", consumersJSON("1", entryJSON("0", true, true, true)))
)
