"""Citations to and from CSL-JSON, BibTeX and RIS.

The writers take citations fetched with ``Citation.objects.with_authors()`` and
run no queries of their own. The parsers return plain dicts shaped like
``ParsedCitation`` for the importers, and raise ``FormatError`` naming the
entry when the input is malformed. Nothing here touches the database.

Each format has fewer publication types than HER2db, so a round trip keeps
the type only where the format can tell it apart: REVIEW comes back as a
journal article, LABEL as OTHER, and in BibTeX PREPRINT as OTHER too.
"""

from .bibtex import BIBTEX_TYPES, parse_bibtex, to_bibtex
from .common import FormatError, ParsedCitation
from .csl import CSL_TYPES, as_csl, parse_csl_json, to_csl_json
from .ris import RIS_TYPES, parse_ris, to_ris

__all__ = [
    "MEDIA_TYPES",
    "BIBTEX_TYPES",
    "CSL_TYPES",
    "RIS_TYPES",
    "FormatError",
    "ParsedCitation",
    "as_csl",
    "to_csl_json",
    "to_bibtex",
    "to_ris",
    "parse_csl_json",
    "parse_bibtex",
    "parse_ris",
]

MEDIA_TYPES = {
    "csl": "application/vnd.citationstyles.csl+json",
    "bibtex": "application/x-bibtex",
    "ris": "application/x-research-info-systems",
}
