"""Property-based run of the whole OpenAPI schema, in process.

Schemathesis generates requests from /api/schema/ for every operation, as an
anonymous reader and as a curator with a token, and checks each response: no
server error, a documented status code and content type, a body matching the
schema. Examples are bounded so the run stays quick, and anonymous writes,
refused before anything in them is read, get one each.
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from her2db.wsgi import application
from tests.api_clients import token_client

pytestmark = pytest.mark.slow

CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {
            "mode": "positive",
            # A longer hunt: FUZZ_EXAMPLES=200 make test
            "max-examples": int(os.environ.get("FUZZ_EXAMPLES", "15")),
            "database": "none",
        },
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
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


# A schema cannot say which names exist or are taken: a 400 for a well-formed
# request (an unknown slug, a duplicate NCT id) is the right answer, not a bug.
NOT_CHECKED = [schemathesis.checks.positive_data_acceptance]

FUZZ = settings(
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.django_db
@schema.include(method="GET").parametrize()
@FUZZ
def test_anonymous_requests_never_fail_or_break_the_schema(case, world):
    case.call_and_validate(excluded_checks=NOT_CHECKED)


# An anonymous write is refused (401) before its parameters or body are read,
# whatever they are (tests/her2db/test_api_permissions.py checks that it
# changes nothing): one request an operation shows its answer is documented;
# more would all get the same answer.
@pytest.mark.django_db
@schema.exclude(method="GET").parametrize()
@settings(FUZZ, max_examples=1)
def test_anonymous_writes_never_fail_or_break_the_schema(case, world):
    response = case.call_and_validate(excluded_checks=NOT_CHECKED)
    assert response.status_code == 401


@pytest.mark.django_db
@schema.parametrize()
@FUZZ
def test_curator_requests_never_fail_or_break_the_schema(case, world, curator):
    client = token_client(curator)
    key = client._credentials["HTTP_AUTHORIZATION"]
    case.call_and_validate(headers={"Authorization": key}, excluded_checks=NOT_CHECKED)
