"""Property-based run of the whole OpenAPI schema, in process.

Schemathesis generates requests from /api/schema/ for every operation, valid
ones and ones that break the schema, as an anonymous reader and as a curator
and an editor with a token, and runs every check on each answer: no server
error, a documented status code and content type, a body matching the
schema, every schema-breaking request refused and every valid one accepted.
Examples are bounded so the run stays quick, and anonymous writes, refused
before anything in them is read, get a few each. Checks switched off are in
SWITCHED_OFF below, each with its reason.
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES

from her2db.wsgi import application
from tests.api_clients import token_client

pytestmark = pytest.mark.slow

CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {
            "mode": "all",
            # A longer hunt: FUZZ_EXAMPLES=200 make test
            "max-examples": int(os.environ.get("FUZZ_EXAMPLES", "15")),
            "database": "none",
        },
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "checks": {
            # A write whose If-Match is not the record's current ETag is
            # refused (412) before its body is read, whatever the body: that
            # is a rejection too.
            "negative_data_rejection": {
                "expected-statuses": [
                    *NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES,
                    "412",
                ]
            }
        },
    }
)

# Loaded once, at collection: generating the schema touches no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Django closes "old" connections around each request; Django's test
    client stops that, schemathesis' WSGI client does not, and on PostgreSQL
    closing the connection would end the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.negative_data_rejection,
    schemathesis.checks.positive_data_acceptance,
]

# Switched off, with the reason, by method: the only exceptions.
SWITCHED_OFF = {
    # A write names other records (an agent's slug, a citation's citekey), is
    # refused when a unique field is taken, must carry the current ETag in
    # If-Match, and must keep rules that span fields and rows (an ADC's
    # payload, a trial's arms and their agents, a retraction's date). No
    # schema can say which names exist, which are taken or what the current
    # ETag is, so a schema-valid write may rightly get a 400, 412 or 428;
    # tests/her2db/test_api_writing.py and test_api_rules.py check those.
    "POST": [schemathesis.checks.positive_data_acceptance],
    "PUT": [schemathesis.checks.positive_data_acceptance],
    "PATCH": [schemathesis.checks.positive_data_acceptance],
    "DELETE": [schemathesis.checks.positive_data_acceptance],
}


def check(case, **kwargs):
    excluded = SWITCHED_OFF.get(case.method.upper(), [])
    checks = [c for c in CHECKS if c not in excluded]
    return case.call_and_validate(checks=checks, excluded_checks=excluded, **kwargs)


# The same examples on every run (a seed from each test's name), so that CI
# answers for the code, not for the luck of the draw; FUZZ_EXAMPLES=200 make
# test looks further.
FUZZ = settings(
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.django_db
@schema.include(method="GET").parametrize()
@FUZZ
def test_anonymous_requests_never_fail_or_break_the_schema(case, world):
    check(case)


# An anonymous write is refused (401) before its parameters or body are read,
# whatever they are (tests/her2db/test_api_permissions.py checks that it
# changes nothing), or 404 when a path parameter breaks its pattern so that
# no route matches: a few requests an operation show its answer is
# documented; more would all get the same answer.
@pytest.mark.django_db
@schema.exclude(method="GET").parametrize()
@settings(FUZZ, max_examples=3)
def test_anonymous_writes_never_fail_or_break_the_schema(case, world):
    response = check(case)
    assert response.status_code in (401, 404)


@pytest.mark.django_db
@schema.parametrize()
@FUZZ
@pytest.mark.parametrize("persona", ["curator", "editor"])
def test_curators_and_editors_requests_never_fail_or_break_the_schema(
    case, world, persona, request
):
    client = token_client(request.getfixturevalue(persona))
    key = client._credentials["HTTP_AUTHORIZATION"]
    check(case, headers={"Authorization": key})
