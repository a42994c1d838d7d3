"""Citations and their authors."""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Greatest, Least

from her2db.models import (
    ABSTRACT,
    SHORT_TEXT,
    TEXT,
    BoundedTextField,
    NaturalKeyManager,
    NaturalKeyModel,
    TimeStampedModel,
    curated_history,
    unique_when_set,
)

from .identifiers import (
    DOI_RESOLVER,
    NORMALISERS,
    validate_doi,
    validate_pmcid,
    validate_pmid,
)
from .publication_types import PublicationType

CITEKEY_RE = r"^[A-Za-z][A-Za-z0-9_:+-]*$"
ORCID_RE = r"^[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X]$"

validate_citekey = RegexValidator(
    CITEKEY_RE,
    "A citekey starts with a letter and holds only letters, digits and _ : + -.",
)
validate_orcid = RegexValidator(
    ORCID_RE, 'An ORCID iD looks like "0000-0002-1825-0097".'
)


class Author(TimeStampedModel, NaturalKeyModel):
    """A person or a collective (a study group) who wrote citations."""

    family_name = models.CharField(
        max_length=200, help_text="Family name, or the whole name of a collective."
    )
    given_name = models.CharField(
        max_length=100,
        blank=True,
        help_text='Given names, or initials with full stops ("S. M.", not "SM").',
    )
    suffix = models.CharField(
        max_length=20, blank=True, help_text='e.g. "Jr" or "III", as published.'
    )
    is_collective = models.BooleanField(
        default=False, help_text="A group such as a trial's study group."
    )
    orcid = models.CharField(
        "ORCID iD", max_length=19, blank=True, validators=[validate_orcid]
    )
    history = curated_history()

    natural_key_fields = ("family_name", "given_name")

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        constraints = [
            # One row per spelling; check_data reports near-duplicates.
            models.UniqueConstraint(
                fields=["family_name", "given_name"],
                name="%(app_label)s_%(class)s_unique_name",
                violation_error_message="An author with this family and given name "
                "already exists.",
            ),
            unique_when_set("orcid", "Another author has this ORCID iD."),
            models.CheckConstraint(
                condition=~Q(family_name=""),
                name="%(app_label)s_%(class)s_family_name_required",
                violation_error_message="An author needs a family name.",
            ),
        ]

    def __str__(self):
        return " ".join(
            part for part in (self.family_name, self.given_name, self.suffix) if part
        )


class DistinctAuthorsQuerySet(models.QuerySet):
    def of_pair(self, first: Author, second: Author) -> "DistinctAuthorsQuerySet":
        """The mark of these two authors, in either order."""
        return self.filter(
            Q(first=first, second=second) | Q(first=second, second=first)
        )

    def involving(self, authors) -> "DistinctAuthorsQuerySet":
        return self.filter(Q(first__in=authors) | Q(second__in=authors))

    def name_pairs(self) -> set[frozenset[tuple[str, str]]]:
        """Each marked pair as its two (family name, given name)s, unordered."""
        names = self.values_list(
            "first__family_name",
            "first__given_name",
            "second__family_name",
            "second__given_name",
        )
        return {frozenset({(a, b), (c, d)}) for a, b, c, d in names}


class DistinctAuthorsManager(NaturalKeyManager.from_queryset(DistinctAuthorsQuerySet)):
    pass


class DistinctAuthors(TimeStampedModel, NaturalKeyModel):
    """Two authors a curator found to be different people, though their names
    could be one person's two spellings (check_data stops asking about them)."""

    # CASCADE: the mark says something about these two rows only.
    first = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="+")
    note = BoundedTextField(
        blank=True,
        max_length=SHORT_TEXT,
        help_text="How you know, e.g. different affiliations, fields or ORCID iDs.",
    )
    # Who marked the pair is in its history: a user named here would tie the
    # fixtures to this database's accounts.
    history = curated_history()

    natural_key_fields = (
        "first__family_name",
        "first__given_name",
        "second__family_name",
        "second__given_name",
    )
    objects = DistinctAuthorsManager()

    class Meta:
        ordering = [
            "first__family_name",
            "first__given_name",
            "second__family_name",
            "second__given_name",
            "id",
        ]
        verbose_name = "pair of different people"
        verbose_name_plural = "different people"
        constraints = [
            models.CheckConstraint(
                condition=~Q(first=F("second")),
                name="%(app_label)s_%(class)s_two_authors",
                violation_error_message="Choose two different authors.",
            ),
            # A pair is marked once, whichever of the two is named first.
            models.UniqueConstraint(
                Least("first", "second"),
                Greatest("first", "second"),
                name="%(app_label)s_%(class)s_unique_pair",
                violation_error_message="These two authors are already marked as "
                "different people.",
            ),
        ]

    def __str__(self):
        return f"{self.first} / {self.second}"


class CitationQuerySet(models.QuerySet):
    def with_authors(self):
        return self.prefetch_related(
            models.Prefetch(
                "citation_authors",
                queryset=CitationAuthor.objects.select_related("author"),
            )
        )


class CitationManager(NaturalKeyManager.from_queryset(CitationQuerySet)):
    pass


class Citation(TimeStampedModel, NaturalKeyModel):
    """One scholarly source: a paper, abstract, chapter, label or guideline."""

    PublicationType = PublicationType

    # Which paper, and where it was published: what importers and the
    # curated data build compare and fill in.
    BIBLIOGRAPHIC_FIELDS = (
        "pmid",
        "doi",
        "pmcid",
        "title",
        "journal",
        "year",
        "volume",
        "issue",
        "pages",
    )

    citekey = models.CharField(
        max_length=64,
        unique=True,
        validators=[validate_citekey],
        help_text="Stable human-readable key, also the BibTeX key "
        '(e.g. "Veeraraghavan2025").',
    )
    pmid = models.CharField(
        "PMID", max_length=9, blank=True, validators=[validate_pmid]
    )
    doi = models.CharField(
        "DOI",
        max_length=255,
        blank=True,
        validators=[validate_doi],
        help_text="Stored lower-case without a resolver prefix.",
    )
    pmcid = models.CharField(
        "PMCID", max_length=12, blank=True, validators=[validate_pmcid]
    )
    title = BoundedTextField(max_length=SHORT_TEXT)
    journal = models.CharField(max_length=255, blank=True)
    year = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[
            MinValueValidator(1800, "The year must lie between 1800 and 2100."),
            MaxValueValidator(2100, "The year must lie between 1800 and 2100."),
        ],
    )
    volume = models.CharField(max_length=32, blank=True)
    issue = models.CharField(max_length=32, blank=True)
    pages = models.CharField(max_length=64, blank=True)
    abstract = BoundedTextField(blank=True, max_length=ABSTRACT)
    publication_type = models.CharField(
        max_length=24, choices=PublicationType, default=PublicationType.JOURNAL_ARTICLE
    )
    url = models.URLField(
        "URL", max_length=500, blank=True, help_text="For sources with no DOI or PMID."
    )
    authors_truncated = models.BooleanField(
        "author list shortened",
        default=False,
        help_text="The authors listed are the first of a longer list (exports "
        'add "et al.").',
    )
    retracted = models.BooleanField(default=False)
    retraction_date = models.DateField(null=True, blank=True)
    retraction_note = BoundedTextField(blank=True, max_length=TEXT)
    authors = models.ManyToManyField(
        Author,
        through="references.CitationAuthor",
        related_name="citations",
        blank=True,
    )
    history = curated_history()

    natural_key_fields = ("citekey",)
    objects = CitationManager()

    class Meta:
        ordering = ["citekey"]
        constraints = [
            # Each identifier names one paper, but many citations have none.
            unique_when_set("pmid", "Another citation has this PMID."),
            unique_when_set("doi", "Another citation has this DOI."),
            unique_when_set("pmcid", "Another citation has this PMCID."),
            models.CheckConstraint(
                condition=Q(year__isnull=True) | Q(year__gte=1800, year__lte=2100),
                name="%(app_label)s_%(class)s_year_range",
                violation_error_message="The year must lie between 1800 and 2100.",
            ),
            models.CheckConstraint(
                condition=Q(doi="") | Q(doi__startswith="10."),
                name="%(app_label)s_%(class)s_doi_form",
                violation_error_message='A DOI starts with "10.".',
            ),
            models.CheckConstraint(
                condition=Q(pmcid="") | Q(pmcid__startswith="PMC"),
                name="%(app_label)s_%(class)s_pmcid_form",
                violation_error_message='A PMCID starts with "PMC".',
            ),
            models.CheckConstraint(
                condition=Q(retraction_date__isnull=True) | Q(retracted=True),
                name="%(app_label)s_%(class)s_retraction_date_needs_retracted",
                violation_error_message="Only a retracted citation has a retraction "
                "date.",
            ),
            models.CheckConstraint(
                condition=~Q(title=""),
                name="%(app_label)s_%(class)s_title_required",
                violation_error_message="A citation needs a title.",
            ),
        ]

    def __str__(self):
        return self.citekey

    def save(self, *args, **kwargs):
        self.normalise()
        super().save(*args, **kwargs)

    def clean(self):
        self.normalise()

    def normalise(self) -> None:
        """Identifiers in their stored form (references.identifiers).

        save() calls it; so do the importers, whose bulk inserts skip save().
        """
        for name, normalise in NORMALISERS.items():
            setattr(self, name, normalise(getattr(self, name)))

    def replace_authors(self, author_ids: list[int], stamp=None) -> None:
        """Make the author list exactly ``author_ids``, in order, changing only
        the positions that differ (each change saved with its history).

        ``stamp(link)`` may attribute a link's history (an import's reason).
        """
        stamp = stamp or (lambda link: link)
        links = {link.position: link for link in self.citation_authors.all()}
        for position, author_id in enumerate(author_ids, start=1):
            link = links.pop(position, None)
            if link is None:
                link = CitationAuthor(
                    citation=self, author_id=author_id, position=position
                )
                stamp(link).save()
            elif link.author_id != author_id:
                link.author_id = author_id
                stamp(link).save()
        for link in links.values():
            stamp(link).delete()

    @property
    def pubmed_url(self) -> str:
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/" if self.pmid else ""

    @property
    def doi_url(self) -> str:
        return f"{DOI_RESOLVER}{self.doi}" if self.doi else ""

    @property
    def pmc_url(self) -> str:
        return (
            f"https://www.ncbi.nlm.nih.gov/pmc/articles/{self.pmcid}/"
            if self.pmcid
            else ""
        )

    def as_csl(self) -> dict:
        """This citation as a CSL-JSON item (see references.formats)."""
        from .formats import as_csl

        return as_csl(self)

    def ordered_authors(self) -> list[Author]:
        """Authors in publication order (uses a prefetch when there is one)."""
        links = sorted(self.citation_authors.all(), key=lambda link: link.position)
        return [link.author for link in links]

    def short_authors(self) -> str:
        authors = self.ordered_authors()
        if not authors:
            return ""
        first = authors[0].family_name
        return first if len(authors) == 1 else f"{first} et al."


class CitationAuthor(NaturalKeyModel):
    """An author's place in a citation's author list."""

    citation = models.ForeignKey(
        Citation, on_delete=models.CASCADE, related_name="citation_authors"
    )
    # PROTECT: an author row is shared by citations and must not vanish with one.
    author = models.ForeignKey(
        Author, on_delete=models.PROTECT, related_name="citation_links"
    )
    position = models.PositiveSmallIntegerField(
        help_text="1 for the first author.",
        validators=[MinValueValidator(1, "Positions start at 1.")],
    )
    history = curated_history()

    natural_key_fields = ("citation__citekey", "position")

    class Meta:
        ordering = ["citation", "position"]
        verbose_name = "citation author"
        constraints = [
            models.UniqueConstraint(
                fields=["citation", "position"],
                name="%(app_label)s_%(class)s_unique_position",
                violation_error_message="Two authors cannot share a position.",
            ),
            models.CheckConstraint(
                condition=Q(position__gte=1),
                name="%(app_label)s_%(class)s_position_positive",
                violation_error_message="Positions start at 1.",
            ),
        ]

    def __str__(self):
        return f"{self.citation} #{self.position}: {self.author}"
