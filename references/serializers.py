"""Citations and their authors as the API reads and writes them."""

from rest_framework import serializers

from her2db.api.fields import (
    PREFETCHED,
    LinkField,
    StrictCharField,
    StrictURLField,
    Summary,
)
from her2db.api.serializers import CuratedSerializer, RowSerializer

from .identifiers import normalise_doi
from .models import Author, Citation


class CitationSummary(Summary):
    """A citation in brief, as other resources show it."""

    model, names = Citation, ("citekey", "title", "year")

    citekey = serializers.CharField()
    title = serializers.CharField()
    year = serializers.IntegerField(allow_null=True)
    url = serializers.URLField()


class AuthorListSerializer(serializers.ListSerializer):
    """Authors in publication order, from the prefetched links when there are."""

    # Read from values (her2db/api/reads.py): the citation's authors relation.
    values_relation = "authors"

    def get_attribute(self, instance):
        links = instance.__dict__.get(PREFETCHED.format("citation_authors"))
        if links is None:
            return instance.ordered_authors()
        return [link.author for link in links]


class AuthorSerializer(RowSerializer):
    """An author in publication order; written by name (an existing author with
    the same family and given name is reused, otherwise one is created)."""

    class Meta:
        model = Author
        fields = ["family_name", "given_name", "is_collective", "orcid"]
        read_only_fields = ["orcid"]
        # Authors are shared by name: an existing one is reused, not an error.
        validators = []
        list_serializer_class = AuthorListSerializer
        extra_kwargs = {"family_name": {"validators": []}}

    def validate(self, attrs):
        if not attrs.get("family_name", "").strip():
            raise serializers.ValidationError(
                {"family_name": ["An author needs a family name."]}
            )
        return attrs


class DOIField(StrictCharField):
    """A DOI, accepted with or without a resolver prefix and stored lower-case."""

    def to_internal_value(self, data):
        return normalise_doi(super().to_internal_value(data))


class CitationSerializer(CuratedSerializer):
    """A scholarly source with its authors in order."""

    url = LinkField()
    doi = DOIField(
        allow_blank=True,
        required=False,
        max_length=255,
        help_text="Lower-case, no resolver prefix (one is stripped if given).",
    )
    source_url = StrictURLField(
        source="url",
        allow_blank=True,
        required=False,
        max_length=500,
        help_text="Where to read a source that has no DOI or PMID.",
    )
    authors = AuthorSerializer(
        source="ordered_authors",
        many=True,
        required=False,
        help_text="In publication order; writing replaces the list.",
    )
    pubmed_url = serializers.CharField(read_only=True)
    doi_url = serializers.CharField(read_only=True)
    pmc_url = serializers.CharField(read_only=True)

    class Meta:
        model = Citation
        fields = [
            "url",
            "citekey",
            "title",
            "authors",
            "journal",
            "year",
            "volume",
            "issue",
            "pages",
            "publication_type",
            "pmid",
            "doi",
            "pmcid",
            "pubmed_url",
            "doi_url",
            "pmc_url",
            "source_url",
            "abstract",
            "retracted",
            "retraction_date",
            "retraction_note",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def create(self, validated_data):
        authors = validated_data.pop("ordered_authors", None)
        instance = super().create(validated_data)
        if authors is not None:
            self.save_authors(instance, authors)
        return instance

    def update(self, instance, validated_data):
        authors = validated_data.pop("ordered_authors", None)
        instance = super().update(instance, validated_data)
        if authors is not None:
            self.save_authors(instance, authors)
        return instance

    @staticmethod
    def save_authors(citation: Citation, authors: list[dict]) -> None:
        """Make the author list exactly `authors`, changing only what differs."""
        author_ids = [
            Author.objects.get_or_create(
                family_name=data["family_name"].strip(),
                given_name=data.get("given_name", "").strip(),
                defaults={"is_collective": data.get("is_collective", False)},
            )[0].pk
            for data in authors
        ]
        citation.replace_authors(author_ids)
