package schema

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/openstack-placement-go/placement/internal/pycompat"
	"github.com/openstack-placement-go/placement/internal/testutil"
)

// The expectations below were produced by python3-jsonschema 4.10.3 (the
// reference server's) with placement's uuid format checker registered.

func TestValidateJSON_ReportsPythonMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, schema, body                         string
		keyword, message, schemaPath, instancePath string
	}{
		{
			name:         "required",
			schema:       `{"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}`,
			body:         `{}`,
			keyword:      "required",
			message:      "'name' is a required property",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "required reports the first missing property",
			schema:       `{"type": "object", "required": ["b", "a"]}`,
			body:         `{}`,
			keyword:      "required",
			message:      "'b' is a required property",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "additionalProperties with one extra",
			schema:       `{"type": "object", "properties": {"name": {"type": "string"}}, "additionalProperties": false}`,
			body:         `{"name":"x","bogus":1}`,
			keyword:      "additionalProperties",
			message:      "Additional properties are not allowed ('bogus' was unexpected)",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:    "additionalProperties with several extras, sorted",
			schema:  `{"type": "object", "properties": {"name": {"type": "string"}}, "additionalProperties": false}`,
			body:    `{"zeta":1,"name":"x","alpha":2}`,
			keyword: "additionalProperties",
			// jsonschema 4's extras_msg sorts them, whatever the body's order.
			message:      "Additional properties are not allowed ('alpha', 'zeta' were unexpected)",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "additionalProperties beside patternProperties",
			schema:       `{"type": "object", "patternProperties": {"^resources[0-9]*$": {"type": "string"}}, "additionalProperties": false}`,
			body:         `{"resources01x":"a"}`,
			keyword:      "additionalProperties",
			message:      "'resources01x' does not match any of the regexes: '^resources[0-9]*$'",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "type on a nested property",
			schema:       `{"type": "object", "properties": {"traits": {"type": "array"}}}`,
			body:         `{"traits":"invalid_type"}`,
			keyword:      "type",
			message:      "'invalid_type' is not of type 'array'",
			schemaPath:   `schema['properties']['traits']`,
			instancePath: `instance['traits']`,
		},
		{
			name:         "type list",
			schema:       `{"type": ["string", "null"]}`,
			body:         `5`,
			keyword:      "type",
			message:      "5 is not of type 'string', 'null'",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "type with null instance",
			schema:       `{"type": "string"}`,
			body:         `null`,
			keyword:      "type",
			message:      "None is not of type 'string'",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "type with a list instance",
			schema:       `{"type": "object"}`,
			body:         `[1]`,
			keyword:      "type",
			message:      "[1] is not of type 'object'",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "booleans are not integers",
			schema:       `{"type": "integer"}`,
			body:         `true`,
			keyword:      "type",
			message:      "True is not of type 'integer'",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "booleans are not numbers",
			schema:       `{"type": "number"}`,
			body:         `false`,
			keyword:      "type",
			message:      "False is not of type 'number'",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "strings are not numbers",
			schema:       `{"type": "number"}`,
			body:         `"1.0"`,
			keyword:      "type",
			message:      "'1.0' is not of type 'number'",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "fractions are not integers",
			schema:       `{"type": "integer"}`,
			body:         `16.5`,
			keyword:      "type",
			message:      "16.5 is not of type 'integer'",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "minimum",
			schema:       `{"type": "integer", "minimum": 1}`,
			body:         `0`,
			keyword:      "minimum",
			message:      "0 is less than the minimum of 1",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "maximum",
			schema:       `{"type": "integer", "maximum": 2147483647}`,
			body:         `2147483648`,
			keyword:      "maximum",
			message:      "2147483648 is greater than the maximum of 2147483647",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "float maximum",
			schema:       `{"type": "number", "maximum": 3.40282e+38}`,
			body:         `3.5e38`,
			keyword:      "maximum",
			message:      "3.5e+38 is greater than the maximum of 3.40282e+38",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "exclusiveMinimum (draft 4)",
			schema:       `{"minimum": 10, "exclusiveMinimum": true}`,
			body:         `10`,
			keyword:      "minimum",
			message:      "10 is less than or equal to the minimum of 10",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "minLength",
			schema:       `{"type": "string", "minLength": 1}`,
			body:         `""`,
			keyword:      "minLength",
			message:      "'' is too short",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "maxLength counts code points",
			schema:       `{"type": "string", "maxLength": 2}`,
			body:         `"日本語"`,
			keyword:      "maxLength",
			message:      "'日本語' is too long",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "pattern",
			schema:       `{"type": "string", "pattern": "^CUSTOM_[A-Z0-9_]+$"}`,
			body:         `"CUSTOM_lower"`,
			keyword:      "pattern",
			message:      "'CUSTOM_lower' does not match '^CUSTOM_[A-Z0-9_]+$'",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "pattern is a search",
			schema:       `{"type": "string", "pattern": "[0-9]"}`,
			body:         `"abc"`,
			keyword:      "pattern",
			message:      "'abc' does not match '[0-9]'",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "format uuid",
			schema:       `{"type": "string", "format": "uuid"}`,
			body:         `"zz"`,
			keyword:      "format",
			message:      "'zz' is not a 'uuid'",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "format uuid on a non-string",
			schema:       `{"format": "uuid"}`,
			body:         `5`,
			keyword:      "format",
			message:      "5 is not a 'uuid'",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "uniqueItems",
			schema:       `{"type": "array", "uniqueItems": true}`,
			body:         `["a","b","a"]`,
			keyword:      "uniqueItems",
			message:      "['a', 'b', 'a'] has non-unique elements",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "uniqueItems compares numbers by value",
			schema:       `{"type": "array", "uniqueItems": true}`,
			body:         `[1,1.0]`,
			keyword:      "uniqueItems",
			message:      "[1, 1.0] has non-unique elements",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "minItems",
			schema:       `{"type": "array", "minItems": 1}`,
			body:         `[]`,
			keyword:      "minItems",
			message:      "[] is too short",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "maxItems",
			schema:       `{"type": "array", "maxItems": 1}`,
			body:         `[1,2]`,
			keyword:      "maxItems",
			message:      "[1, 2] is too long",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "minProperties",
			schema:       `{"type": "object", "minProperties": 1}`,
			body:         `{}`,
			keyword:      "minProperties",
			message:      "{} does not have enough properties",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "maxProperties",
			schema:       `{"type": "object", "maxProperties": 1}`,
			body:         `{"b":1,"a":2}`,
			keyword:      "maxProperties",
			message:      "{'b': 1, 'a': 2} has too many properties",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "enum",
			schema:       `{"type": "string", "enum": ["none", "isolate"]}`,
			body:         `"bogus"`,
			keyword:      "enum",
			message:      "'bogus' is not one of ['none', 'isolate']",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "multipleOf",
			schema:       `{"multipleOf": 3}`,
			body:         `7`,
			keyword:      "multipleOf",
			message:      "7 is not a multiple of 3",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "not",
			schema:       `{"not": {"type": "string"}}`,
			body:         `"x"`,
			keyword:      "not",
			message:      "'x' should not be valid under {'type': 'string'}",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "dependencies (draft 4)",
			schema:       `{"dependencies": {"a": ["b"]}}`,
			body:         `{"a":1}`,
			keyword:      "dependencies",
			message:      "'b' is a dependency of 'a'",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "oneOf matching twice",
			schema:       `{"oneOf": [{"type": "integer"}, {"minimum": 0}]}`,
			body:         `5`,
			keyword:      "oneOf",
			message:      "5 is valid under each of {'minimum': 0}, {'type': 'integer'}",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "items",
			schema:       `{"type": "array", "items": {"type": "string", "format": "uuid"}}`,
			body:         `["11111111-2222-3333-4444-555555555555","zz"]`,
			keyword:      "format",
			message:      "'zz' is not a 'uuid'",
			schemaPath:   `schema['items']`,
			instancePath: `instance[1]`,
		},
		{
			name:         "additionalItems (draft 4)",
			schema:       `{"items": [{"type": "string"}], "additionalItems": false}`,
			body:         `["a",1,2]`,
			keyword:      "additionalItems",
			message:      "Additional items are not allowed (1, 2 were unexpected)",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "a nested inventory total below its minimum",
			schema:       `{"type": "object", "properties": {"inventories": {"type": "object", "patternProperties": {"^[A-Z0-9_]+$": {"type": "object", "properties": {"total": {"type": "integer", "maximum": 2147483647, "minimum": 1}}, "required": ["total"]}}}}}`,
			body:         `{"inventories":{"VCPU":{"total":0}}}`,
			keyword:      "minimum",
			message:      "0 is less than the minimum of 1",
			schemaPath:   `schema['properties']['inventories']['patternProperties']['^[A-Z0-9_]+$']['properties']['total']`,
			instancePath: `instance['inventories']['VCPU']['total']`,
		},
		{
			name:         "$ref is transparent in paths (draft 4)",
			schema:       `{"definitions": {"amount": {"type": "integer", "minimum": 1}}, "type": "object", "properties": {"resources": {"type": "object", "patternProperties": {"^[A-Z0-9_]+$": {"$ref": "#/definitions/amount"}}}}}`,
			body:         `{"resources":{"VCPU":0}}`,
			keyword:      "minimum",
			message:      "0 is less than the minimum of 1",
			schemaPath:   `schema['properties']['resources']['patternProperties']['^[A-Z0-9_]+$']`,
			instancePath: `instance['resources']['VCPU']`,
		},
		{
			name:         "anyOf with equally relevant branches reports anyOf",
			schema:       `{"type": "object", "properties": {"parent_provider_uuid": {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]}}}`,
			body:         `{"parent_provider_uuid":5}`,
			keyword:      "anyOf",
			message:      "5 is not valid under any of the given schemas",
			schemaPath:   `schema['properties']['parent_provider_uuid']`,
			instancePath: `instance['parent_provider_uuid']`,
		},
		{
			name:         "anyOf descends into the branch the instance's type matches",
			schema:       `{"type": "object", "properties": {"parent_provider_uuid": {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]}}}`,
			body:         `{"parent_provider_uuid":"zz"}`,
			keyword:      "format",
			message:      "'zz' is not a 'uuid'",
			schemaPath:   `schema[0]`,
			instancePath: `instance`,
		},
		{
			name:         "anyOf descends into the deepest error",
			schema:       `{"anyOf": [{"type": "object", "properties": {"a": {"type": "integer"}}}, {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "string"}}}}}]}`,
			body:         `{"a":{"b":1}}`,
			keyword:      "type",
			message:      "1 is not of type 'string'",
			schemaPath:   `schema[1]['properties']['a']['properties']['b']`,
			instancePath: `instance['a']['b']`,
		},
		{
			name:         "shallower errors beat deeper ones",
			schema:       `{"type": "object", "properties": {"a": {"type": "object", "required": ["x"]}}, "required": ["b"]}`,
			body:         `{"a":{}}`,
			keyword:      "required",
			message:      "'b' is a required property",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "other errors beat anyOf at the same depth",
			schema:       `{"type": "object", "properties": {"a": {"anyOf": [{"type": "string"}, {"type": "integer"}]}, "b": {"type": "string"}}}`,
			body:         `{"a":null,"b":1}`,
			keyword:      "type",
			message:      "1 is not of type 'string'",
			schemaPath:   `schema['properties']['b']`,
			instancePath: `instance['b']`,
		},
		{
			name:         "schema order decides between equals",
			schema:       `{"type": "object", "properties": {"b": {"type": "string"}, "a": {"type": "string"}}}`,
			body:         `{"a":1,"b":2}`,
			keyword:      "type",
			message:      "2 is not of type 'string'",
			schemaPath:   `schema['properties']['b']`,
			instancePath: `instance['b']`,
		},
		{
			name:         "keyword order decides between equals",
			schema:       `{"type": "string", "maxLength": 1, "pattern": "^[0-9]+$"}`,
			body:         `"ab"`,
			keyword:      "maxLength",
			message:      "'ab' is too long",
			schemaPath:   `schema`,
			instancePath: `instance`,
		},
		{
			name:         "document order decides among patternProperties",
			schema:       `{"type": "object", "patternProperties": {"^[A-Z]+$": {"type": "integer"}}}`,
			body:         `{"VCPU":"x","DISK":"y"}`,
			keyword:      "type",
			message:      "'x' is not of type 'integer'",
			schemaPath:   `schema['patternProperties']['^[A-Z]+$']`,
			instancePath: `instance['VCPU']`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := MustCompile(tt.name, tt.schema)
			_, err := s.ValidateJSON([]byte(tt.body))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("ValidateJSON(%s) = %v, want a *ValidationError", tt.body, err)
			}
			got := [4]string{ve.Keyword, ve.Message, ve.SchemaPath, ve.InstancePath}
			want := [4]string{tt.keyword, tt.message, tt.schemaPath, tt.instancePath}
			if got != want {
				t.Errorf("ValidateJSON(%s)\n got  %q\n want %q", tt.body, got, want)
			}
		})
	}
}

func TestValidationError_ErrorMatchesPythonText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, schema, body, want string
	}{
		{
			name:   "a nested inventory total below its minimum",
			schema: `{"type": "object", "properties": {"inventories": {"type": "object", "patternProperties": {"^[A-Z0-9_]+$": {"type": "object", "properties": {"total": {"type": "integer", "maximum": 2147483647, "minimum": 1}}, "required": ["total"]}}}}}`,
			body:   `{"inventories":{"VCPU":{"total":0}}}`,
			want: `0 is less than the minimum of 1

Failed validating 'minimum' in schema['properties']['inventories']['patternProperties']['^[A-Z0-9_]+$']['properties']['total']:
    {'maximum': 2147483647, 'minimum': 1, 'type': 'integer'}

On instance['inventories']['VCPU']['total']:
    0`,
		},
		{
			name:   "a parent uuid that is not a uuid",
			schema: `{"type": "object", "properties": {"name": {"type": "string", "maxLength": 200}, "parent_provider_uuid": {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]}}, "required": ["name"], "additionalProperties": false}`,
			body:   `{"name":"rp","parent_provider_uuid":"zz"}`,
			want: `'zz' is not a 'uuid'

Failed validating 'format' in schema[0]:
    {'format': 'uuid', 'type': 'string'}

On instance:
    'zz'`,
		},
		{
			name:   "a long name wraps like pprint",
			schema: `{"type": "object", "properties": {"name": {"type": "string", "maxLength": 200}}, "required": ["name"], "additionalProperties": false}`,
			body:   `{"name": "word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word "}`,
			want: `'word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word ' is too long

Failed validating 'maxLength' in schema['properties']['name']:
    {'maxLength': 200, 'type': 'string'}

On instance['name']:
    ('word word word word word word word word word word word word word '
     'word word word word word word word word word word word word word '
     'word word word word word word word word word word word word word '
     'word word ')`,
		},
		{
			name:   "a large schema and instance wrap like pprint",
			schema: `{"type": "object", "properties": {"resource_provider_generation": {"type": "integer"}, "total": {"type": "integer", "maximum": 2147483647, "minimum": 1}, "reserved": {"type": "integer", "maximum": 2147483647, "minimum": 0}, "allocation_ratio": {"type": "number", "maximum": 3.40282e+38}}, "required": ["total", "resource_provider_generation"], "additionalProperties": false}`,
			body:   `{"resource_provider_generation":1,"reserved":0,"allocation_ratio":16.0,"unexpected_key_with_a_long_name":[1,2,3],"another":"é"}`,
			want: `'total' is a required property

Failed validating 'required' in schema:
    {'additionalProperties': False,
     'properties': {'allocation_ratio': {'maximum': 3.40282e+38,
                                         'type': 'number'},
                    'reserved': {'maximum': 2147483647,
                                 'minimum': 0,
                                 'type': 'integer'},
                    'resource_provider_generation': {'type': 'integer'},
                    'total': {'maximum': 2147483647,
                              'minimum': 1,
                              'type': 'integer'}},
     'required': ['total', 'resource_provider_generation'],
     'type': 'object'}

On instance:
    {'allocation_ratio': 16.0,
     'another': 'é',
     'reserved': 0,
     'resource_provider_generation': 1,
     'unexpected_key_with_a_long_name': [1, 2, 3]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := MustCompile(tt.name, tt.schema).ValidateJSON([]byte(tt.body))
			if err == nil {
				t.Fatal("ValidateJSON succeeded, want an error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestIsUUIDLike(t *testing.T) {
	t.Parallel()
	testutil.WantOutputs(t, "IsUUIDLike", IsUUIDLike, []testutil.Pair[any, bool]{
		{"11111111-2222-3333-4444-555555555555", true},
		{"11111111111111111111111111111111", true},
		{"{11111111111111111111111111111111}", true},
		{"{{11111111-2222-3333-4444-555555555555}}", true},
		{"urn:uuid:11111111-2222-3333-4444-555555555555", true},
		{"uuid:11111111-2222-3333-4444-555555555555", true},
		{"ABCDEF00-0000-0000-0000-00000000000A", true},
		{"1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1", true},
		{"zz", false},
		{"", false},
		{"1111111111111111111111111111111", false},
		{"111111111111111111111111111111111", false},
		{"1111111111111111111111111111111g", false},
		{"1111111111111111111111111111111 ", false},
		{"+1111111111111111111111111111111", false},
		{5, false},
		{nil, false},
	})
}

func TestValidate_UUIDFormatIsAsserted(t *testing.T) {
	t.Parallel()
	s := MustCompile("uuid", `{"type": "object", "properties": {"uuid": {"type": "string", "format": "uuid"}}}`)
	for _, u := range []string{
		"11111111111111111111111111111111",
		"{11111111111111111111111111111111}",
		"urn:uuid:11111111-2222-3333-4444-555555555555",
		"ABCDEF00-0000-0000-0000-00000000000A",
	} {
		if err := s.Validate(map[string]any{"uuid": u}); err != nil {
			t.Errorf("Validate(%q) = %v, want nil", u, err)
		}
	}
	err := s.Validate(map[string]any{"uuid": "zz"})
	if err == nil || !strings.Contains(err.Error(), "'zz' is not a 'uuid'") {
		t.Errorf("Validate(zz) = %v, want \"'zz' is not a 'uuid'\"", err)
	}
}

func TestValidate_IntegersAcceptIntegralFloats(t *testing.T) {
	t.Parallel()
	s := MustCompile("int", `{"type": "integer", "minimum": 1}`)
	for _, body := range []string{"16", "16.0", "1E2", "123456789012345678901234567890", "16.00000000000000001"} {
		if _, err := s.ValidateJSON([]byte(body)); err != nil {
			t.Errorf("ValidateJSON(%s) = %v, want nil", body, err)
		}
	}
	for body, want := range map[string]string{
		"16.5": "16.5 is not of type 'integer'",
		"true": "True is not of type 'integer'",
		`"1"`:  "'1' is not of type 'integer'",
		"0.0":  "0.0 is less than the minimum of 1",
	} {
		_, err := s.ValidateJSON([]byte(body))
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Message != want {
			t.Errorf("ValidateJSON(%s) = %v, want message %q", body, err, want)
		}
	}
}

func TestValidate_GenericDocumentsUseSortedKeys(t *testing.T) {
	t.Parallel()
	s := MustCompile("order", `{"type": "object", "patternProperties": {"^[A-Z]+$": {"type": "integer"}}}`)
	doc, err := DecodeJSON([]byte(`{"VCPU": "x", "DISK": "y"}`))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Validate(pycompat.Unordered(doc))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate = %v, want a *ValidationError", err)
	}
	// The map lost the body's order, so DISK (sorted first) is reported.
	if ve.InstancePath != "instance['DISK']" {
		t.Errorf("InstancePath = %s, want instance['DISK']", ve.InstancePath)
	}
	if want := []any{"DISK"}; !reflect.DeepEqual(ve.Path, want) {
		t.Errorf("Path = %#v, want %#v", ve.Path, want)
	}
	if ve.Instance != "y" || ve.Value != "integer" {
		t.Errorf("Instance, Value = %#v, %#v; want \"y\", \"integer\"", ve.Instance, ve.Value)
	}
	if want := map[string]any{"type": "integer"}; !reflect.DeepEqual(ve.Schema, want) {
		t.Errorf("Schema = %#v, want %#v", ve.Schema, want)
	}
}

func TestValidate_ValidDocuments(t *testing.T) {
	t.Parallel()
	s := MustCompile("rp", `{"type": "object",
		"properties": {"name": {"type": "string", "maxLength": 200},
		               "uuid": {"type": "string", "format": "uuid"},
		               "parent_provider_uuid": {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]}},
		"required": ["name"], "additionalProperties": false}`)
	body := `{"name": "日本", "uuid": "11111111-2222-3333-4444-555555555555", "parent_provider_uuid": null}`
	doc, err := s.ValidateJSON([]byte(body))
	if err != nil {
		t.Fatalf("ValidateJSON = %v", err)
	}
	want := map[string]any{"name": "日本", "uuid": "11111111-2222-3333-4444-555555555555", "parent_provider_uuid": nil}
	if o, ok := doc.(*pycompat.Object); !ok || !slices.Equal(o.Keys(), []string{"name", "uuid", "parent_provider_uuid"}) {
		t.Errorf("ValidateJSON = %#v, want an object in body order", doc)
	}
	if got := pycompat.Unordered(doc); !reflect.DeepEqual(got, want) {
		t.Errorf("ValidateJSON = %#v, want %#v", got, want)
	}
	if err := s.Validate(want); err != nil {
		t.Errorf("Validate = %v, want nil", err)
	}
}

func TestValidate_RejectsNonJSONGoValues(t *testing.T) {
	t.Parallel()
	s := MustCompile("any", `{}`)
	err := s.Validate(map[string]any{"a": struct{}{}})
	var ve *ValidationError
	if err == nil || errors.As(err, &ve) {
		t.Errorf("Validate(struct) = %v, want a non-validation error", err)
	}
}

func TestValidate_ReportsMalformedJSONFromValidateJSON(t *testing.T) {
	t.Parallel()
	_, err := MustCompile("any", `{}`).ValidateJSON(nil)
	var se *SyntaxError
	if !errors.As(err, &se) || se.Error() != "Expecting value: line 1 column 1 (char 0)" {
		t.Errorf("ValidateJSON(nil) = %v, want the Python empty-body message", err)
	}
}

func TestValidate_ReportsPatternAnchoredAtTrueEnd(t *testing.T) {
	t.Parallel()
	// Upstream lets $ match before a final newline; spec 01 §7.1 says we must not.
	_, err := MustCompile("rc", `{"type": "string", "pattern": "^CUSTOM_[A-Z0-9_]+$"}`).ValidateJSON([]byte(`"CUSTOM_X\n"`))
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Message != `'CUSTOM_X\n' does not match '^CUSTOM_[A-Z0-9_]+$'` {
		t.Errorf("ValidateJSON = %v, want a pattern error", err)
	}
}

func TestMustCompile_PanicsOnBadSchemas(t *testing.T) {
	t.Parallel()
	for name, text := range map[string]string{
		"not JSON":            `{"type": `,
		"not a schema":        `{"type": 5}`,
		"external references": `{"$ref": "http://example.com/schema.json"}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Error("MustCompile did not panic")
				}
			}()
			MustCompile(name, text)
		})
	}
}

func TestValidate_IsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	s := MustCompile("inv", `{"type": "object", "patternProperties": {"^[A-Z0-9_]+$": {"type": "object",
		"properties": {"total": {"type": "integer", "minimum": 1}}, "required": ["total"]}}}`)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"VCPU": {"total": %d}}`, i%2)
			_, err := s.ValidateJSON([]byte(body))
			if (err == nil) != (i%2 == 1) {
				t.Errorf("ValidateJSON(%s) = %v", body, err)
			}
		}()
	}
	wg.Wait()
}

func TestFromLibrary_TranslatesLibraryErrors(t *testing.T) {
	t.Parallel()
	// fromLibrary is the fallback for a failure the walker cannot explain;
	// exercise it directly.
	s := MustCompile("inv", `{"type": "object", "properties": {"inventories": {"type": "object",
		"patternProperties": {"^[A-Z]+$": {"type": "array", "items": {"$ref": "#/definitions/n"}}}}},
		"definitions": {"n": {"type": "integer", "maximum": 1}}}`)
	ordered, err := DecodeJSON([]byte(`{"inventories": {"VCPU": [1, 5]}}`))
	if err != nil {
		t.Fatal(err)
	}
	var lerr *jsonschema.ValidationError
	if !errors.As(s.compiled.Validate(pycompat.Unordered(ordered)), &lerr) {
		t.Fatal("the library accepted the document")
	}
	ve := s.w.fromLibrary(lerr, ordered)
	got := [3]string{ve.Keyword, ve.SchemaPath, ve.InstancePath}
	want := [3]string{"maximum", "schema['properties']['inventories']['patternProperties']['^[A-Z]+$']['items']", "instance['inventories']['VCPU'][1]"}
	if got != want {
		t.Errorf("fromLibrary = %q, want %q", got, want)
	}
	wantText := "Failed validating 'maximum' in schema['properties']['inventories']['patternProperties']['^[A-Z]+$']['items']:\n" +
		"    {'maximum': 1, 'type': 'integer'}\n\nOn instance['inventories']['VCPU'][1]:\n    5"
	if !strings.HasSuffix(ve.Error(), wantText) {
		t.Errorf("Error() = %s, want suffix %s", ve.Error(), wantText)
	}
}
