// Package schema compiles the JSON Schemas (draft 4) that guard request
// bodies and query strings, and reports failures in the words of Python's
// jsonschema library, which upstream Placement uses.
//
// Clients and gabbits match on those words ("'total' is a required
// property", "Failed validating 'minimum' in schema['properties']['total']"),
// so the text is API.
//
// # Validator of record
//
// santhosh-tekuri/jsonschema/v5 decides whether a document is valid. Only
// when it rejects one does this package walk the schema again, in the order
// the keywords are written, re-running each keyword the way jsonschema 4.10
// (python3-jsonschema on the reference server) does, and picks the error
// that jsonschema.exceptions.best_match picks:
//
//   - the error with the shortest instance path wins;
//   - then errors not raised by anyOf/oneOf;
//   - then errors whose schema declares a "type" the instance does not have
//     (or no "type" at all);
//   - remaining ties go to the first error in schema keyword order
//     (properties in the order the schema lists them, patternProperties
//     patterns in schema order, instance keys in document order).
//
// When the winner is an anyOf/oneOf error, best_match looks at the errors of
// its branches and takes the least relevant by the same rules (deepest
// path, nested anyOf/oneOf, instance matching the branch's type). If that
// one is unique it descends into it and repeats; if two tie it reports the
// anyOf/oneOf error itself ("... is not valid under any of the given
// schemas"). So {"anyOf": [{"type": "string", "format": "uuid"},
// {"type": "null"}]} reports "'zz' is not a 'uuid'" for "zz" but the anyOf
// message for 5. A descended error keeps Python's relative paths, e.g.
// "schema[0]" and "instance", exactly as upstream prints them.
//
// Error() renders the whole schema object holding the failing keyword and
// the failing value with pprint.pformat's layout (sorted keys, 72 columns),
// as Python's str(ValidationError) does.
//
// # Key order
//
// Python keeps dict insertion order. Schemas are parsed with their key
// order. Instances given to Validate as map[string]any have lost theirs, so
// their keys are taken in sorted order; use ValidateJSON to keep the order
// of the request body.
package schema
