"""The kinds of source a citation can be (``Citation.PublicationType``).

Apart from the model so that ``references.formats`` can map them to each
format's types without importing the models.
"""

from django.db import models


class PublicationType(models.TextChoices):
    JOURNAL_ARTICLE = "JOURNAL_ARTICLE", "Journal article"
    REVIEW = "REVIEW", "Review"
    CONFERENCE_ABSTRACT = "CONFERENCE_ABSTRACT", "Conference abstract"
    BOOK_CHAPTER = "BOOK_CHAPTER", "Book chapter"
    PREPRINT = "PREPRINT", "Preprint"
    LABEL = "LABEL", "Label or guideline"
    OTHER = "OTHER", "Other"


# Each type as CSL-JSON, BibTeX and RIS write it. CSL's "article" is the type
# for preprints; BibTeX has no closer type than @misc for them.
FORMAT_TYPES = {
    PublicationType.JOURNAL_ARTICLE: ("article-journal", "article", "JOUR"),
    PublicationType.REVIEW: ("article-journal", "article", "JOUR"),
    PublicationType.CONFERENCE_ABSTRACT: ("paper-conference", "inproceedings", "CONF"),
    PublicationType.BOOK_CHAPTER: ("chapter", "incollection", "CHAP"),
    PublicationType.PREPRINT: ("article", "misc", "UNPB"),
    PublicationType.LABEL: ("document", "misc", "GEN"),
    PublicationType.OTHER: ("document", "misc", "GEN"),
}
