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

from tests.bench.loadmix import READS, WRITES

DATA = json.loads(Path(os.environ["LOADTEST_DATA"]).read_text())
# "all": anonymous and token users, writes included; "anon": anonymous reads
# only; "only:<read>" (say "only:list agents"): that one read, anonymously,
# as issue 13 measured each endpoint on its own.
MIX = os.getenv("LOADTEST_MIX", "all")
ONLY = MIX.removeprefix("only:") if MIX.startswith("only:") else None
if ONLY is not None and ONLY not in READS:
    raise SystemExit(f"LOADTEST_MIX: no read named {ONLY!r}; one of {list(READS)}")
TOKEN_EVERY = 4
WRITE_SHARE = 0.2  # of a token user's requests: about 5% of all of them


_names = list(READS)
_weights = [READS[name][0] for name in _names]
_users = itertools.count()


class Client(FastHttpUser):
    wait_time = constant(0)

    def on_start(self):
        number = next(_users)
        self.token = MIX == "all" and number % TOKEN_EVERY == 0
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
        name = ONLY or random.choices(_names, _weights)[0]
        path = READS[name][1](DATA)
        self.client.get(path, name=f"{self.who} {name}", headers=self.headers)

    def write(self):
        url = f"/api/v1/agents/{self.agent}/"
        read = self.client.get(url, name=WRITES[0], headers=self.headers)
        self.flip += 1
        self.client.request(
            "PATCH",
            url,
            name=WRITES[1],
            headers={
                **self.headers,
                "If-Match": read.headers.get("ETag", ""),
                "X-Change-Reason": "load test",
            },
            json={"abbreviation": f"LT{self.flip % 2}"},
        )
