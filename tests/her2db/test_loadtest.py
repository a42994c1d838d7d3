"""`make loadtest`'s clients and summary, in a short run against a live server."""

import json
import re

import pytest
from knox.models import AuthToken

from tests import factories
from tests.bench import loadtest
from tests.bench.loadmix import READS, SEARCH_WORDS, WRITES


@pytest.fixture
def data(curator, tmp_path):
    agents = [factories.make_agent(targets=1) for _ in range(3)]
    evidence = factories.make_evidence(agents=agents[:2])
    trial = factories.make_trial(arms=1)
    _, token = AuthToken.objects.create(user=curator)
    path = tmp_path / "data.json"
    path.write_text(
        json.dumps(
            {
                "token": token,
                "agents": [agent.slug for agent in agents],
                "write_agents": [agents[-1].slug],
                "evidence": [str(evidence.uid)],
                "citations": [c.citekey for c in evidence.citations.all()],
                "trials": [trial.nct_id],
                "words": SEARCH_WORDS,
            }
        )
    )
    return path


@pytest.mark.django_db(transaction=True)
def test_a_short_load_test_reads_and_writes_without_errors(
    live_server, data, tmp_path, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute"},
    }
    # Long enough for a slow machine to answer a few of each kind of user.
    loadtest.drive(live_server.url, data, 8, 3, tmp_path / "locust")
    lines = loadtest.summary(tmp_path / "locust_stats.csv")
    assert re.fullmatch(
        r"loadtest: \d+\.\d rps, p50 \d+, p95 \d+, p99 \d+, errors 0", lines[-1]
    ), "\n".join(lines)
    assert lines[-2].startswith("anonymous reads: ")
    names = {re.split(r"\s{2,}", line)[0] for line in lines[1:-2]}
    known = {f"{who} {name}" for who in ("anon", "token") for name in READS}
    known |= set(WRITES)
    assert names <= known
    # Anonymous readers and the token user (one in four) both ran.
    assert any(name.startswith("anon ") for name in names)
    assert any(name.startswith("token ") for name in names)


@pytest.mark.django_db(transaction=True)
def test_one_read_alone_as_the_issue_measured_it(
    live_server, data, tmp_path, settings, monkeypatch
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute"},
    }
    monkeypatch.setenv("LOADTEST_MIX", "only:list agents")
    loadtest.drive(live_server.url, data, 3, 2, tmp_path / "locust")
    lines = loadtest.summary(tmp_path / "locust_stats.csv")
    assert {re.split(r"\s{2,}", line)[0] for line in lines[1:-2]} == {
        "anon list agents"
    }, "\n".join(lines)


def test_an_unknown_read_name_stops_the_clients(data, tmp_path, monkeypatch):
    monkeypatch.setenv("LOADTEST_MIX", "only:list nothing")
    loadtest.drive("http://127.0.0.1:9", data, 1, 1, tmp_path / "locust")
    assert "no read named 'list nothing'" in (tmp_path / "locust.log").read_text()
