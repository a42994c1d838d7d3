"""The load test's clients (`make loadtest`, tests/bench/loadtest.py).

Every user reads a weighted mix of lists, details, filters, searches, export
formats and the change feed. One user in TOKEN_EVERY reads with the API token
instead and, on WRITE_SHARE of its requests, changes its own agent's
abbreviation: a GET for the ETag, then a PATCH with If-Match (its own agent,
so no other client's write makes it stale: a 412 would be a real error).

LOADTEST_DATA names a JSON file written by loadtest.py: the token, and the
identifiers to read and write.
"""

import itertools
import json
import os
import random
from pathlib import Path

from locust import FastHttpUser, constant, task

DATA = json.loads(Path(os.environ["LOADTEST_DATA"]).read_text())
# "all": anonymous and token users, writes included; "anon": anonymous reads only.
MIX = os.getenv("LOADTEST_MIX", "all")
TOKEN_EVERY = 4
WRITE_SHARE = 0.2  # of a token user's requests: about 5% of all of them


def one(kind: str) -> str:
    return random.choice(DATA[kind])


# name: (weight, path)
READS = {
    "list agents": (4, lambda: "/api/v1/agents/"),
    "list evidence": (3, lambda: "/api/v1/evidence/"),
    "list citations": (2, lambda: "/api/v1/citations/"),
    "list trials": (2, lambda: "/api/v1/trials/"),
    "detail agent": (4, lambda: f"/api/v1/agents/{one('agents')}/"),
    "detail evidence": (3, lambda: f"/api/v1/evidence/{one('evidence')}/"),
    "detail citation": (2, lambda: f"/api/v1/citations/{one('citations')}/"),
    "detail trial": (2, lambda: f"/api/v1/trials/{one('trials')}/"),
    "filter evidence": (2, lambda: "/api/v1/evidence/?level=A,B"),
    "filter trials": (2, lambda: "/api/v1/trials/?phase=PHASE2,PHASE3"),
    "search citations": (
        2,
        lambda: f"/api/v1/citations/?search={random.choice(DATA['words'])}",
    ),
    "search evidence": (
        2,
        lambda: f"/api/v1/evidence/?search={random.choice(DATA['words'])}",
    ),
    "format bibtex": (1, lambda: "/api/v1/citations/?format=bibtex"),
    "format ris": (1, lambda: f"/api/v1/citations/{one('citations')}/?format=ris"),
    "format csl": (1, lambda: "/api/v1/citations/?format=csl"),
    "changes": (2, lambda: "/api/v1/changes/?since=2020-01-01T00:00:00Z"),
}
_names = list(READS)
_weights = [READS[name][0] for name in _names]
_users = itertools.count()


class Client(FastHttpUser):
    wait_time = constant(0)

    def on_start(self):
        number = next(_users)
        self.token = MIX == "all" and number % TOKEN_EVERY == TOKEN_EVERY - 1
        self.who = "token" if self.token else "anon"
        self.headers = {"Authorization": f"Token {DATA['token']}"} if self.token else {}
        if self.token:
            agents = DATA["write_agents"]
            self.agent = agents[number // TOKEN_EVERY % len(agents)]
            self.flip = 0

    @task
    def request(self):
        if self.token and random.random() < WRITE_SHARE:
            self.write()
            return
        name = random.choices(_names, _weights)[0]
        path = READS[name][1]()
        self.client.get(path, name=f"{self.who} {name}", headers=self.headers)

    def write(self):
        url = f"/api/v1/agents/{self.agent}/"
        read = self.client.get(url, name="token write: GET", headers=self.headers)
        self.flip += 1
        self.client.request(
            "PATCH",
            url,
            name="token write: PATCH",
            headers={
                **self.headers,
                "If-Match": read.headers.get("ETag", ""),
                "X-Change-Reason": "load test",
            },
            json={"abbreviation": f"LT{self.flip % 2}"},
        )
