"""The citation's page with the claims that cite it.

`references` knows nothing of `therapies`, so the section is added here, on a
subclass of its admin registered in its place.
"""

from django.contrib import admin

from references.admin import CitationAdmin as BaseCitationAdmin
from references.models import Citation

from .filters import CitationFilter
from .related import RelatedEvidenceMixin

admin.site.unregister(Citation)


@admin.register(Citation)
class CitationAdmin(RelatedEvidenceMixin, BaseCitationAdmin):
    evidence_filter = CitationFilter
