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
// the keywords are written, re-running each keyword the way jsonschema 4.x
// (as shipped with the reference server) does, and picks the error that
// jsonschema.exceptions.best_match would pick:
//
//   - the error with the shortest instance path wins;
//   - among those, errors not raised by anyOf/oneOf win;
//   - remaining ties go to the first error in schema keyword order
//     (properties in the order the schema lists them, patternProperties
//     patterns in schema order, instance keys in document order).
//
// When the winner is an anyOf/oneOf error, best_match looks at the errors of
// its branches: if exactly one of them is the most relevant (deepest
// instance path, anyOf/oneOf preferred — Python uses min() there) it
// descends into it and repeats; if two or more tie, the anyOf/oneOf error
// itself is reported ("... is not valid under any of the given schemas").
// A descended error keeps Python's relative paths, e.g. schema[0] and
// instance, exactly as str(error) prints them upstream.
//
// # Key order
//
// Python keeps dict insertion order. Schemas are parsed with their key
// order. Instances given to Validate as map[string]any have lost theirs, so
// their keys are taken in sorted order; use ValidateJSON to keep the order
// of the request body.
package schema
