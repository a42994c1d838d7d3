"""Citations as CSL-JSON, BibTeX and RIS, chosen by ?format= or Accept.

The views hand these renderers Citation objects (fetched with their authors)
rather than serialized data; the writers live in references/formats/.
"""

from rest_framework import renderers

from .formats import MEDIA_TYPES, to_bibtex, to_csl_json, to_ris


class CitationRenderer(renderers.BaseRenderer):
    charset = "utf-8"
    # The document's shape, for the OpenAPI schema.
    openapi_schema: dict = {"type": "string"}

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        # An empty export is still a document of its type (and keeps its
        # Content-Type: DRF drops the header of an empty body).
        return (self.write(data) or "\n").encode(self.charset)

    def write(self, citations) -> str:
        raise NotImplementedError


class CSLJSONRenderer(CitationRenderer):
    media_type = MEDIA_TYPES["csl"]
    format = "csl"
    openapi_schema = {
        "type": "array",
        "description": "CSL-JSON items (Citation Style Language data schema 1.0).",
        "items": {"type": "object", "additionalProperties": {}},
    }

    def write(self, citations) -> str:
        return to_csl_json(citations)


class BibTeXRenderer(CitationRenderer):
    media_type = MEDIA_TYPES["bibtex"]
    format = "bibtex"

    def write(self, citations) -> str:
        return to_bibtex(citations)


class RISRenderer(CitationRenderer):
    media_type = MEDIA_TYPES["ris"]
    format = "ris"

    def write(self, citations) -> str:
        return to_ris(citations)


CITATION_RENDERERS = [CSLJSONRenderer, BibTeXRenderer, RISRenderer]
