"""`?search=`: one query syntax, matched against the search documents.

The syntax, the same on SQLite and PostgreSQL:

- words: every word must match. A word matches as written and as the start
  of a longer word (`trastuz` finds trastuzumab), after English stemming
  (`resisting` finds resistance). Case and punctuation are ignored; a word
  with punctuation inside (`B-31`, `10.1093/jnci/djk003`) matches its parts
  in that order. Very common English words (the, of, and...) are ignored
  outside quotes.
- "a phrase" in double quotes: these words, next to each other in this
  order, each whole (no prefix). An unclosed quote runs to the end.
- -word or -"a phrase": leave out what matches it. A minus on its own, or
  inside a word (HER-2), is not an exclusion.

Results come best first (the weights the registry declares: a title hit
outranks an abstract hit), then in the model's own order. The query is
parsed here into terms and compiled for each engine (a tsquery on
PostgreSQL, an FTS5 MATCH string on SQLite) with every word quoted, so no
input reaches either engine as syntax. A query that leaves nothing to look
for (only punctuation, only common words, only exclusions) is refused with
a message: `SearchError`, a 400 in the API.
"""

import re
from dataclasses import dataclass

from django.db import connections
from django.db.models import QuerySet

from her2db.registry import registry
from her2db.search_index import CONFIG, RANK_WEIGHTS, document_of

SYNTAX = (
    "Words to look for in names, aliases, identifiers, titles and text, best "
    "match first. Every word must match, as a whole word or as the start of "
    'one (stemmed: "resisting" finds resistance); "words in double quotes" '
    "match as a phrase; a leading minus excludes (-xenograft, "
    '-"cell line"). Case and punctuation are ignored; very common English '
    "words are ignored outside quotes."
)
MAX_TERMS = 16
MAX_WORD = 100
_WORD = re.compile(r"[^\W_]+")
# PostgreSQL's English stop words (the Snowball list its 'english' search
# configuration drops), dropped here on both engines so that a bare "the" is
# ignored alike.
_STOP_WORDS = """i me my myself we our ours ourselves you your yours yourself yourselves
    he him his himself she her hers herself it its itself they them their
    theirs themselves what which who whom this that these those am is are was
    were be been being have has had having do does did doing a an the and but
    if or because as until while of at by for with about against between into
    through during before after above below to from up down in out on off over
    under again further then once here there when where why how all any both
    each few more most other some such no nor not only own same so than too
    very s t can will just don should now"""
STOP_WORDS = frozenset(_STOP_WORDS.split())


class SearchError(ValueError):
    """A query with nothing to look for; the message says why."""


@dataclass(frozen=True)
class Term:
    """A word (possibly in parts: B-31) or a quoted phrase, maybe excluded."""

    words: tuple[str, ...]
    phrase: bool = False
    exclude: bool = False


def parse(text: str) -> list[Term]:
    """The terms of a query; SearchError when it has nothing to look for."""
    terms = []
    position, end = 0, len(text)
    while position < end:
        char = text[position]
        if char.isspace():
            position += 1
            continue
        exclude = False
        if char == "-" and position + 1 < end and not text[position + 1].isspace():
            exclude = True
            position += 1
        if text[position] == '"':
            closing = text.find('"', position + 1)
            closing = end if closing == -1 else closing
            chunk, phrase = text[position + 1 : closing], True
            position = closing + 1
        else:
            match = re.compile(r'[^\s"]+').match(text, position)
            if match is None:  # a quote right after a minus: read it next time
                position += 1
                continue
            chunk, phrase = match.group(), False
            position = match.end()
        words = tuple(w.lower() for w in _WORD.findall(chunk))
        if not phrase and len(words) == 1 and words[0] in STOP_WORDS:
            continue
        if words:
            if any(len(w) > MAX_WORD for w in words):
                raise SearchError(f"Words of at most {MAX_WORD} characters, please.")
            terms.append(Term(words, phrase, exclude))
    if len(terms) > MAX_TERMS:
        raise SearchError(f"At most {MAX_TERMS} words or phrases, please.")
    if not terms:
        raise SearchError(
            "Nothing to look for: give a word of letters or digits (very common "
            "English words are ignored)."
        )
    if all(t.exclude for t in terms):
        raise SearchError(
            "Say what to look for as well as what to leave out (a minus only excludes)."
        )
    return terms


def tsquery(terms: list[Term]) -> str:
    """PostgreSQL: the text for to_tsquery('english', ...)."""

    def one(term: Term) -> str:
        words = [f"'{w}'" for w in term.words]
        if not term.phrase:
            words[-1] += ":*"
        return "(" + " <-> ".join(words) + ")"

    wanted = [one(t) for t in terms if not t.exclude]
    wanted += [f"!{one(t)}" for t in terms if t.exclude]
    return " & ".join(wanted)


def fts5_match(terms: list[Term]) -> str:
    """SQLite: the FTS5 MATCH expression, every word inside double quotes."""

    def one(term: Term) -> str:
        return f'"{" ".join(term.words)}"' + ("" if term.phrase else " *")

    wanted = " AND ".join(one(t) for t in terms if not t.exclude)
    unwanted = " OR ".join(one(t) for t in terms if t.exclude)
    return f"({wanted}) NOT ({unwanted})" if unwanted else wanted


def search(queryset: QuerySet, text: str) -> QuerySet:
    """The rows of `queryset` matching `text`, best first.

    Joins the model's search document (her2db/search_index.py), matches it,
    and orders by rank, then the model's ordering, then the primary key.
    """
    text = text.strip()
    if not text:
        return queryset
    try:
        terms = parse(text)
    except SearchError:
        # Only punctuation, common words or exclusions, too many terms or too
        # long a word: a question with no answer, as an unknown identifier.
        return queryset.none()
    model = queryset.model
    vendor = connections[queryset.db].vendor
    document = document_of(model, vendor)
    table, pk = model._meta.db_table, model._meta.pk.column
    fts = document.name
    if vendor == "postgresql":
        query = f"to_tsquery('{CONFIG}'::regconfig, %s)"
        weights = "'{" + ",".join(str(w) for w in reversed(RANK_WEIGHTS)) + "}'"
        matching = queryset.extra(
            select={"_rank": f'ts_rank({weights}, "{fts}".vector, {query})'},
            select_params=[tsquery(terms)],
            tables=[fts],
            where=[f'"{fts}".id = "{table}"."{pk}"', f'"{fts}".vector @@ {query}'],
            params=[tsquery(terms)],
        )
    else:
        weights = ", ".join(str(w) for w in RANK_WEIGHTS)
        matching = queryset.extra(
            # bm25 is lower for better matches.
            select={"_rank": f'-bm25("{fts}", {weights})'},
            tables=[fts],
            where=[f'"{fts}".rowid = "{table}"."{pk}"', f'"{fts}" MATCH %s'],
            params=[fts5_match(terms)],
        )
    return matching.order_by("-_rank", *model._meta.ordering, "pk")


def public_matches(model, text: str, using: str) -> int | None:
    """How many of the rows anyone may read match `text`, counted in the
    search documents alone; None where that cannot be done (SQLite, a query
    with nothing to look for, a public rule the documents do not keep).

    On PostgreSQL each document keeps the columns of its record's public
    rule (search_index.Document.kept), so the count needs no join to the
    records: the GIN index and the documents' rows, as the page's own match
    reads them. It counts what `search(registry.public_rows(model), text)`
    finds, for the rows an anonymous reader is shown.
    """
    connection = connections[using]
    if connection.vendor != "postgresql" or not registry.get(model).search:
        return None
    text = text.strip()
    try:
        terms = parse(text)
    except SearchError:
        return None
    document = document_of(model, "postgresql")
    lookups = registry.public_lookups(model)
    if set(lookups) != set(document.kept):
        return None
    where = [f"vector @@ to_tsquery('{CONFIG}'::regconfig, %s)"]
    where += [f'"{column}" = %s' for column in document.kept.values()]
    params = [tsquery(terms), *(lookups[lookup] for lookup in document.kept)]
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT count(*) FROM "{document.name}" WHERE ' + " AND ".join(where),
            params,
        )
        return cursor.fetchone()[0]
