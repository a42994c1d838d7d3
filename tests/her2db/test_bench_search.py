"""`make bench-search` at a tiny scale: its lines, and the API's answers."""

import re

from django.test import Client

from tests.bench import search
from tests.bench.dataset import build

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


def test_bench_search_prints_its_lines_and_answers_as_the_api(db, capsys):
    build(TINY_SEARCH)
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
    assert answered > 50  # most queries find something even at this size
