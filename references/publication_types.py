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
