package schema

import (
	"strings"

	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// ValidationError describes the failure that Python jsonschema's best_match
// would report for a document; see the package comment for how it is
// chosen.
type ValidationError struct {
	// Keyword is the failing keyword, e.g. "required" or "maxLength".
	Keyword string
	// Message is the keyword's message, e.g. "'total' is a required property".
	Message string
	// SchemaPath locates the schema holding Keyword, e.g.
	// "schema['properties']['total']" ("schema" at the root).
	SchemaPath string
	// InstancePath locates the failing value, e.g.
	// "instance['inventories']['VCPU']['total']" ("instance" at the root).
	InstancePath string
	// Path is InstancePath as keys (string) and array indexes (int).
	Path []any
	// Schema is the schema holding Keyword, Value the keyword's value and
	// Instance the failing value, all in encoding/json's generic form.
	Schema, Value, Instance any

	// schema and instance keep their key order for Error.
	schema, instance any
}

// Error returns the text of Python's str(ValidationError):
//
//	<Message>
//
//	Failed validating '<Keyword>' in <SchemaPath>:
//	    <schema, pprint-ed>
//
//	On <InstancePath>:
//	    <instance, pprint-ed>
//
// where the schema shown is the whole (sub)schema holding the keyword, with
// sorted keys and wrapped at 72 columns as pprint.pformat does.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	b.WriteString("\n\nFailed validating ")
	b.WriteString(PyRepr(e.Keyword))
	b.WriteString(" in ")
	b.WriteString(e.SchemaPath)
	b.WriteString(":\n    ")
	b.WriteString(indentTail(pformat(e.schema, 72), "    "))
	b.WriteString("\n\nOn ")
	b.WriteString(e.InstancePath)
	b.WriteString(":\n    ")
	b.WriteString(indentTail(pformat(e.instance, 72), "    "))
	return b.String()
}

// indentTail prefixes every line but the first.
func indentTail(s, prefix string) string {
	return strings.ReplaceAll(s, "\n", "\n"+prefix)
}

func (pe *pyError) validationError() *ValidationError {
	schemaPath := pe.schemaPath
	if len(schemaPath) > 0 {
		schemaPath = schemaPath[:len(schemaPath)-1]
	}
	return &ValidationError{
		Keyword:      pe.keyword,
		Message:      pe.message,
		SchemaPath:   formatAsIndex("schema", schemaPath),
		InstancePath: formatAsIndex("instance", pe.path),
		Path:         append([]any{}, pe.path...),
		Schema:       pycompat.Unordered(pe.schema),
		Value:        pycompat.Unordered(pe.keywordValue),
		Instance:     pycompat.Unordered(pe.instance),
		schema:       pe.schema,
		instance:     pe.instance,
	}
}
