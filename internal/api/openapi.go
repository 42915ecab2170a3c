package api

import (
	"net/http"

	"github.com/openstack-placement-go/placement/internal/openapi"
)

// openAPIPath serves the OpenAPI description. Like the version document it
// needs no authentication: it is the same static text for every caller.
const openAPIPath = "/openapi.json"

// serveOpenAPI answers GET /openapi.json with the OpenAPI 3.1 description
// of the API at the latest microversion, the same at every microversion.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(openapi.Document())
	return err
}
