"""`make bench-search` at a tiny scale: its lines, and the API's answers."""

import re

import pytest
from django.db import connection
from django.test import Client

from her2db.search_index import document_of
from references.models import Citation
from tests.bench import search
from tests.bench.dataset import build, build_indexed
from tests.conftest import make_citation
from therapies.models import Evidence

# The benchmark's proportions (two evidence items a citation), tiny.
TINY_SEARCH = {
    "targets": 4,
    "agents": 60,
    "mechanisms": 10,
    "citations": 200,
    "authors": 100,
    "trials": 4,
    "evidence": 400,
}


@pytest.mark.parametrize("text", ["zipf", "uniform"])
def test_bench_search_prints_its_lines_and_answers_as_the_api(db, capsys, text):
    build(TINY_SEARCH, text=text)
    found = search.measure(repeat=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for line, resource in zip(lines, search.RESOURCES, strict=True):
        assert re.fullmatch(rf"search {resource} p50 \d+\.\d p95 \d+\.\d", line)
        assert found[resource][0] <= found[resource][1]
    assert len(search.QUERIES) == 50
    client = Client(HTTP_HOST="localhost")
    answered = 0
    for resource in search.RESOURCES:
        for query in search.QUERIES:
            api = search.api_keys(client, resource, query)
            assert api == search.bench_keys(resource, query), (resource, query)
            answered += bool(api)
    # Most queries find something even at this size: nearly all with every
    # word in every row, fewer with words as rare as in real text.
    assert answered > {"uniform": 80, "zipf": 30}[text], answered


def test_zipf_texts_hold_words_as_often_as_real_text_does(db):
    """The "zipf" data set: the first words of the vocabulary common, the
    last rare, none in every row, filler words the most common of all."""
    build(TINY_SEARCH, text="zipf")
    abstracts = [a.lower() for a in Citation.objects.values_list("abstract", flat=True)]

    def share(word: str) -> float:
        return sum(f" {word} " in f" {a} " for a in abstracts) / len(abstracts)

    assert 0.1 < share("her2") < 0.35
    assert share("cd44") < share("her2")
    assert share("cancer.") + share("cancer") < 0.1
    assert share("lexeme1") > 0.9


def test_build_refuses_a_kind_of_text_it_does_not_know(db):
    with pytest.raises(ValueError, match="zipf"):
        build(TINY_SEARCH, text="lorem")


def test_build_indexed_writes_every_document_once_and_puts_the_triggers_back(db):
    build_indexed(TINY_SEARCH, text="zipf")
    with connection.cursor() as cursor:
        for model in (Citation, Evidence):
            table = document_of(model, connection.vendor).name
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            assert cursor.fetchone()[0] == model.objects.count() > 0
    make_citation(citekey="After2026", title="Zanidatamab after the build")
    client = Client(HTTP_HOST="localhost")
    assert search.api_keys(client, "citations", "zanidatamab") == ["After2026"]
    assert search.api_keys(client, "citations", "lexeme1")  # the zipf texts
