"""The API benchmark's floor makes the API's very bytes, on a tiny data set.

A field added to the API without its floor fails here, not months later in
`make bench`.
"""

import orjson
from django.test import Client

from references.models import Citation
from tests.bench.compare import api_and_floor, details_and_floor
from tests.bench.dataset import build
from therapies.models import Evidence, EvidenceCitation

# A few rows of each; 10 mechanisms so that some have a parent.
TINY = {
    "targets": 4,
    "agents": 6,
    "mechanisms": 10,
    "citations": 24,
    "authors": 10,
    "trials": 4,
    "evidence": 14,
}


def test_floor_makes_the_api_bytes_of_every_benchmarked_page(db):
    build(TINY)
    # The first claim shown cites a retracted paper nobody has reviewed it against.
    first = Evidence.objects.accepted().first()
    Citation.objects.filter(evidence=first).update(retracted=True)
    EvidenceCitation.objects.filter(evidence=first).update(retraction_reviewed=False)
    client = Client(HTTP_HOST="localhost")
    # Pages of 3 link to the next; pages of 50 hold every row.
    for label, _, api_bytes, floor in api_and_floor(client, page=3):
        assert orjson.loads(api_bytes)["next"], label
        assert floor() == api_bytes, label
    shown = {}
    for label, _, api_bytes, floor in api_and_floor(client, page=50):
        shown[label] = orjson.loads(api_bytes)["results"]
        assert floor() == api_bytes, label
    assert len(shown) == 9  # seven lists and two searches
    records = details_and_floor(client)
    assert len(records) == 6  # every list but trials (see NO_DETAIL_FLOOR)
    for label, _, api_bytes, floor in records:
        assert floor() == api_bytes, label
    # What the comparison has to get right is there to compare.
    assert any(item["warnings"] for item in shown["evidence"])
    assert any(item["trials"] for item in shown["evidence"])
    assert any(m["parent"] for m in shown["mechanisms"])
    assert any(m["children"] for m in shown["mechanisms"])
    assert any(a["drug_to_antibody_ratio"] for a in shown["agents"])
    assert any(p["citation"] for a in shown["agents"] for p in a["approvals"])
    assert any(c["retraction_date"] and c["pmc_url"] for c in shown["citations"])
    assert any(t["arms"] and t["publications"] for t in shown["trials"])
    assert any(t["agents"] and t["mechanisms"] for t in shown["targets"])
    assert any(o["estimate"] and o["citation"] for o in shown["outcomes"])
    assert any(o["estimate"] is None for o in shown["outcomes"])
    arms = [arm for o in shown["outcomes"] for arm in o["arms"]]
    assert any(arm["value"] for arm in arms)
    assert any(arm["not_reached"] for arm in arms)


def test_the_check_data_benchmark_times_every_rule(db):
    from tests.bench.checks import time_checks
    from therapies import checks

    build(TINY)
    timings = time_checks()
    assert [rule for rule, _, _ in timings] == [
        c.__name__ for c in [*checks.CHECKS, *checks.GAPS]
    ]
