"""Merging authors: one person entered under several spellings becomes one
record, keeping every citation that names any of them.

The admin's merge page shows a merge's plan and applies it; a command or the
API could call the same functions. Every write goes through the models (each
row saved or deleted with its history, the user and the reason), so the data
version, the citations' search documents and the change feed follow as they
do for any edit.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Subquery

from .models import Author, Citation, CitationAuthor, DistinctAuthors


def merge_problems(authors: Sequence[Author]) -> list[str]:
    """Why these authors cannot be merged into one ([] if they can).

    The same whichever of them is kept.
    """
    if len(authors) < 2:
        return ["Select two or more authors to merge."]
    problems = []
    if len({author.is_collective for author in authors}) > 1:
        groups = ", ".join(str(a) for a in authors if a.is_collective)
        problems.append(
            f"A collective author ({groups}) cannot be merged with a person."
        )
    orcids = sorted({author.orcid for author in authors if author.orcid})
    if len(orcids) > 1:
        problems.append(
            f"These authors have different ORCID iDs ({', '.join(orcids)}): "
            "they are different people."
        )
    marks = DistinctAuthors.objects.filter(
        first__in=authors, second__in=authors
    ).select_related("first", "second")
    for mark in marks:
        problems.append(
            f"{mark.first} and {mark.second} are marked as different people; "
            "if they are one person after all, delete that mark first."
        )
    return problems


@dataclass
class CitationChange:
    """What merging does to one citation's author list."""

    citation: Citation
    links: list[CitationAuthor]  # all of its links, in order
    # Links of merged authors that now name the kept author, at their position.
    moved: list[CitationAuthor] = field(default_factory=list)
    # Links of merged authors removed because the citation already names the
    # kept author (the authors after them move up one place).
    removed: list[CitationAuthor] = field(default_factory=list)


class AuthorMerge:
    """Merging `others` into `kept`: every citation link of the others names
    the kept author at the same position, and the others are deleted."""

    def __init__(self, kept: Author, others: Iterable[Author]):
        self.kept = kept
        # Each once, and never the kept author itself.
        merged = {other.pk: other for other in others if other.pk != kept.pk}
        self.others = list(merged.values())

    def problems(self) -> list[str]:
        return merge_problems([self.kept, *self.others])

    def changes(self) -> list[CitationChange]:
        """Each citation naming one of the others, in citekey order."""
        merged = {other.pk for other in self.others}
        cited = CitationAuthor.objects.filter(author__in=merged).values("citation")
        changes = [
            CitationChange(links[0].citation, links)
            for links in by_citation(
                CitationAuthor.objects.filter(citation__in=Subquery(cited))
            )
        ]
        for change in changes:
            named = any(link.author_id == self.kept.pk for link in change.links)
            for link in change.links:
                if link.author_id not in merged:
                    continue
                (change.removed if named else change.moved).append(link)
                named = True  # the first merged link names the kept author
        return changes

    def reason(self, reason: str = "") -> str:
        """What every history row of the merge says."""
        names = ", ".join(str(other) for other in self.others)
        said = f"merged {names} into {self.kept}"
        return f"{said}: {reason}" if reason else said

    def apply(self, user=None, reason: str = "") -> list[CitationChange]:
        """Merge, all or nothing; ValidationError if the authors (as they are
        now) cannot be. Returns what changed."""
        with transaction.atomic():
            self._lock()
            problems = self.problems()
            if problems:
                raise ValidationError(problems)
            said = self.reason(reason)

            def stamp(row):
                row._history_user, row._change_reason = user, said
                return row

            changes = self.changes()
            for change in changes:
                if change.removed:
                    ids = [
                        self.kept.pk if link in change.moved else link.author_id
                        for link in change.links
                        if link not in change.removed
                    ]
                    change.citation.replace_authors(ids, stamp)
                    continue
                for link in change.moved:
                    link.author = self.kept
                    stamp(link).save()
            self._move_marks(stamp)
            orcid = next((o.orcid for o in self.others if o.orcid), "")
            for other in self.others:
                stamp(other).delete()
            # Saved even when nothing changes: its history says what it absorbed.
            self.kept.orcid = self.kept.orcid or orcid
            stamp(self.kept).save()
        return changes

    def _lock(self) -> None:
        """Lock the authors and the citations naming the others, and read the
        authors again: someone may have changed them since the plan was shown."""
        ids = [self.kept.pk, *(other.pk for other in self.others)]
        found = {a.pk: a for a in Author.objects.select_for_update().filter(pk__in=ids)}
        if len(found) != len(ids):
            raise ValidationError(
                "An author was deleted since the merge was planned; nothing was merged."
            )
        self.kept = found[self.kept.pk]
        self.others = [found[other.pk] for other in self.others]
        cited = CitationAuthor.objects.filter(author__in=ids).values("citation")
        list(Citation.objects.select_for_update().filter(pk__in=Subquery(cited)))

    def _move_marks(self, stamp) -> None:
        """A merged author's marks of being someone else's different person
        now say so of the kept author (once: a mark the kept one already has
        is deleted)."""
        merged = {other.pk for other in self.others}
        kept_marks = DistinctAuthors.objects.involving([self.kept])
        apart = {m.first_id for m in kept_marks} | {m.second_id for m in kept_marks}
        for mark in DistinctAuthors.objects.involving(merged).order_by("pk"):
            side = "first" if mark.first_id in merged else "second"
            stranger = mark.second_id if side == "first" else mark.first_id
            if stranger in apart:
                stamp(mark).delete()
                continue
            setattr(mark, side, self.kept)
            stamp(mark).save()
            apart.add(stranger)


def merge_authors(
    kept: Author, others: Iterable[Author], user=None, reason: str = ""
) -> list[CitationChange]:
    """Merge `others` into `kept` (see AuthorMerge); returns what changed."""
    return AuthorMerge(kept, others).apply(user, reason)


def shared_citations(authors: Sequence[Author]) -> list[tuple[Citation, list]]:
    """Citations naming two or more of these authors, with those links: a
    merge keeps one link of each (whichever author is kept)."""
    return [
        (links[0].citation, links)
        for links in by_citation(CitationAuthor.objects.filter(author__in=authors))
        if len({link.author_id for link in links}) > 1
    ]


def by_citation(links) -> list[list[CitationAuthor]]:
    """Citation links grouped by citation, in citekey and position order."""
    grouped: dict[int, list[CitationAuthor]] = {}
    ordered = links.select_related("citation", "author").order_by(
        "citation__citekey", "position"
    )
    for link in ordered:
        grouped.setdefault(link.citation_id, []).append(link)
    return list(grouped.values())
