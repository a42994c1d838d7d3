"""What the load test's clients ask for (tests/bench/locustfile.py): kept apart
from Locust, whose import patches the standard library for gevent."""

import random

SEARCH_WORDS = ["trastuzumab", "resistance", "tucatinib", "PI3K", "deruxtecan"]


def one(data: dict, kind: str) -> str:
    return random.choice(data[kind])


# name: (weight, path from the identifiers loadtest.py wrote)
READS = {
    "list agents": (4, lambda d: "/api/v1/agents/"),
    "list evidence": (3, lambda d: "/api/v1/evidence/"),
    "list citations": (2, lambda d: "/api/v1/citations/"),
    "list trials": (2, lambda d: "/api/v1/trials/"),
    "detail agent": (4, lambda d: f"/api/v1/agents/{one(d, 'agents')}/"),
    "detail evidence": (3, lambda d: f"/api/v1/evidence/{one(d, 'evidence')}/"),
    "detail citation": (2, lambda d: f"/api/v1/citations/{one(d, 'citations')}/"),
    "detail trial": (2, lambda d: f"/api/v1/trials/{one(d, 'trials')}/"),
    "filter evidence": (2, lambda d: "/api/v1/evidence/?level=A,B"),
    "filter trials": (2, lambda d: "/api/v1/trials/?phase=PHASE2,PHASE3"),
    "search citations": (2, lambda d: f"/api/v1/citations/?search={one(d, 'words')}"),
    "search evidence": (2, lambda d: f"/api/v1/evidence/?search={one(d, 'words')}"),
    "format bibtex": (1, lambda d: "/api/v1/citations/?format=bibtex"),
    "format ris": (1, lambda d: f"/api/v1/citations/{one(d, 'citations')}/?format=ris"),
    "format csl": (1, lambda d: "/api/v1/citations/?format=csl"),
    "changes": (2, lambda d: "/api/v1/changes/?since=2020-01-01T00:00:00Z"),
}
WRITES = ("token write: GET", "token write: PATCH")
