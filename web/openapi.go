package web

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPI describes /api/v1; a test keeps it equal to the routes and
// checks answers against it with libopenapi-validator.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPIPath is where the document is served, without a token.
const OpenAPIPath = "/api/v1/openapi.json"

func serveOpenAPI(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "application/json", openAPI)
}
