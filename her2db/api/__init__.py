"""What every resource of the JSON API (/api/v1/) shares, one module a role.

DRF does most of the work; these modules add what it lacks: conditional
requests (ETag, If-None-Match, If-Match) in `conditional`, model validation
and database constraints turned into 400s in `validation`, protected deletes
turned into 409s in `exceptions`, a deterministic order under every page in
`filter_backends`, full-text search in `search`, and the error responses in
the OpenAPI schema in `schema`. Import from the module that holds a name.

The modules that REST_FRAMEWORK in settings names for DRF's views
(`authentication`, `permissions`, `renderers`, `filter_backends`, `pagination`,
`throttling`) are imported by DRF while it is still importing those views, so
they import nothing from the others (a test checks).
"""
