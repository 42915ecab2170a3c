package inventory

import (
	"strings"

	"github.com/openstack-placement-go/placement/internal/schema"
)

// recordProperties are the fields shared by every inventory body (spec 03
// Appendix A); MAX is 2^31-1.
const recordProperties = `
	"resource_provider_generation": {"type": "integer"},
	"total":     {"type": "integer", "maximum": 2147483647, "minimum": 1},
	"reserved":  {"type": "integer", "maximum": 2147483647, "minimum": 0},
	"min_unit":  {"type": "integer", "maximum": 2147483647, "minimum": 1},
	"max_unit":  {"type": "integer", "maximum": 2147483647, "minimum": 1},
	"step_size": {"type": "integer", "maximum": 2147483647, "minimum": 1},
	"allocation_ratio": {"type": "number", "maximum": 3.40282e+38}`

// RecordSchema is one record of the PUT …/inventories map, which POST
// /reshaper takes too.
const RecordSchema = `{
	"type": "object",
	"properties": {` + recordProperties + `},
	"required": ["total"],
	"additionalProperties": false
}`

// postSchema is the body of POST …/inventories. resource_class comes last,
// as upstream adds it to the base schema: of two errors equally relevant,
// the one of the earlier property is reported.
var postSchema = schema.MustCompile("inventory POST", `{
	"type": "object",
	"properties": {`+recordProperties+`,
		"resource_class": {"type": "string", "pattern": "^[A-Z0-9_]+$"}
	},
	"required": ["total", "resource_class"],
	"additionalProperties": false
}`)

// putOneSchema is the body of PUT …/inventories/{resource_class}.
var putOneSchema = schema.MustCompile("inventory PUT", `{
	"type": "object",
	"properties": {`+recordProperties+`},
	"required": ["total", "resource_provider_generation"],
	"additionalProperties": false
}`)

// putAllSchema is the body of PUT …/inventories, exactly upstream's: only
// keys matching the class pattern are held to the record schema.
var putAllSchema = schema.MustCompile("inventories PUT", strings.NewReplacer("EXTRA", "").Replace(putAllText))

// putAllStrictSchema additionally holds every other key to the record
// schema. Upstream crashes on a malformed record under such a key (spec 03
// §4.3); validating with this schema after putAllSchema passed turns that
// into a 400, while a well-formed record still reaches the "Unknown resource
// class" answer. It is a second schema so that the errors of ordinary
// bodies print upstream's schema text.
var putAllStrictSchema = schema.MustCompile("inventories PUT (strict)",
	strings.NewReplacer("EXTRA", `, "additionalProperties": `+RecordSchema).Replace(putAllText))

var putAllText = strings.NewReplacer("RECORD", RecordSchema).Replace(`{
	"type": "object",
	"properties": {
		"resource_provider_generation": {"type": "integer"},
		"inventories": {
			"type": "object",
			"patternProperties": {"^[A-Z0-9_]+$": RECORD}EXTRA
		}
	},
	"required": ["resource_provider_generation", "inventories"],
	"additionalProperties": false
}`)
