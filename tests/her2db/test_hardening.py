"""No reachable 500: each request a client can send that once was a server
error, replayed, with the answer it gets now; and the commands' clean errors
when the database cannot be written."""

import json
import sqlite3
import threading
from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from rest_framework.test import APIClient

from her2db.api.validation import constraint_errors
from tests.api_clients import token_client
from therapies.models import Evidence, Target

API = "/api/v1"


# --- OPTIONS on a detail URL ------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["anon", "nobody_api", "curator_api", "editor_api"])
def test_options_on_every_detail_url_answers(persona, request, world):
    client = request.getfixturevalue(persona)
    for url in [
        f"{API}/agents/trastuzumab/",
        f"{API}/targets/ERBB2/",
        f"{API}/mechanisms/p95her2/",
        f"{API}/trials/NCT00004067/",
        f"{API}/citations/Scaltriti2007/",
        f"{API}/evidence/{world['accepted'][0].pk}/",
    ]:
        response = client.options(url)
        assert response.status_code == 200, (url, response.content)
        assert response.json()["name"]


# --- A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE ------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/json", json.dumps({"symbol": "X", "name": "y" * 3000})),
        ("application/x-www-form-urlencoded", "symbol=X&name=" + "y" * 3000),
    ],
)
def test_a_body_too_large_is_a_413_naming_the_limit(curator_api, content_type, body):
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2000):
        response = curator_api.generic(
            "POST", f"{API}/targets/", body, content_type=content_type
        )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "The request body is larger than the 2,000 bytes this server "
        "accepts (DATA_UPLOAD_MAX_MEMORY_SIZE). Send less at a time.",
        "limit": 2000,
    }
    assert not Target.objects.filter(symbol="X").exists()


def test_the_default_body_limit_takes_the_largest_record(settings):
    # A citation with a 50,000-character abstract and its longest other fields
    # fits, JSON-escaped, well inside the default 2.5 MB.
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE >= 2_500_000


# --- The database full or read-only: 503, nothing written ------------------------


@contextmanager
def writes_fail(message: str):
    """Every INSERT and UPDATE fails as the engine itself reports ``message``."""
    from django.db.utils import OperationalError

    if connection.vendor == "postgresql":
        import psycopg

        cause = psycopg.errors.DiskFull(message)
    else:
        cause = sqlite3.OperationalError(message)

    def refuse(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE")):
            raise OperationalError(message) from cause
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse):
        yield


@pytest.mark.django_db
def test_a_full_disk_is_a_503_saying_so_and_nothing_is_written(curator_api, world):
    before = Evidence.objects.count(), Target.objects.count()
    with writes_fail("database or disk is full"):
        response = curator_api.post(
            f"{API}/targets/", {"symbol": "FULL1", "name": "disk full"}, format="json"
        )
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert int(response["Retry-After"]) > 0
    assert response.json() == {
        "detail": "The database has no room left (disk full). Nothing was "
        "written; try again later."
    }
    assert (Evidence.objects.count(), Target.objects.count()) == before


@contextmanager
def read_only_database():
    """The database itself refuses writes: SQLite's query_only, PostgreSQL's
    default_transaction_read_only (as on a standby), for this connection."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET default_transaction_read_only = on")
        else:
            cursor.execute("PRAGMA query_only = ON")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET default_transaction_read_only = off")
            else:
                cursor.execute("PRAGMA query_only = OFF")


READ_ONLY = {
    "postgresql": "The database is read-only at the moment",
    "sqlite": "The database is read-only",
}


@pytest.mark.django_db(transaction=True)
def test_a_read_only_database_is_a_503_saying_so_and_nothing_is_written(curator):
    client = token_client(curator)
    with read_only_database():
        response = client.post(
            f"{API}/targets/", {"symbol": "RO1", "name": "read only"}, format="json"
        )
        reading = client.get(f"{API}/targets/")
    assert response.status_code == 503
    assert response.json() == {
        "detail": f"{READ_ONLY[connection.vendor]}. Nothing was written; "
        "try again later."
    }
    assert reading.status_code == 200  # reading goes on
    assert not Target.objects.filter(symbol="RO1").exists()


# --- Concurrent creates of the same key ------------------------------------------


@pytest.mark.django_db
def test_a_duplicate_found_by_the_database_names_the_field():
    Target.objects.create(symbol="DUP1", name="first")
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        Target.objects.create(symbol="DUP1", name="second")
    assert constraint_errors(caught.value) == {
        "symbol": ["Another target has this HGNC symbol."]
    }


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_key_leave_one_winner_and_name_the_field(curator):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes one writer at a time: no race to lose")
    clients = [token_client(curator) for _ in range(9)]
    start = threading.Barrier(len(clients))
    answers = []

    def create(client: APIClient):
        start.wait()
        try:
            response = client.post(
                f"{API}/targets/", {"symbol": "RACE1", "name": "race"}, format="json"
            )
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(code for code, _ in answers)
    assert codes == [201] + [400] * 8
    for code, body in answers:
        if code == 400:
            assert list(body) == ["symbol"], body
    assert Target.objects.filter(symbol="RACE1").count() == 1


# --- Long text is bounded ---------------------------------------------------------


@pytest.mark.django_db
def test_a_statement_over_its_maximum_is_a_400(curator_api, world):
    evidence = world["accepted"][0]
    response = curator_api.post(
        f"{API}/evidence/",
        {
            "agents": ["trastuzumab"],
            "mechanism": "p95her2",
            "effect": evidence.effect,
            "direction": evidence.direction,
            "level": "B",
            "model_system": evidence.model_system,
            "statement": "x" * 5001,
            "citations": [{"citation": "Scaltriti2007"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "statement": ["Ensure this field has no more than 5000 characters."]
    }


@pytest.mark.django_db
def test_the_schema_publishes_the_maximum_lengths(anon):
    schema = anon.get("/api/schema/?format=json").json()["components"]["schemas"]
    assert schema["EvidenceRequest"]["properties"]["statement"]["maxLength"] == 5000
    assert schema["CitationRequest"]["properties"]["abstract"]["maxLength"] == 50000


def test_the_maximum_lengths_hold_every_shipped_value():
    from pathlib import Path

    from django.apps import apps
    from django.conf import settings

    from her2db.models import BoundedTextField

    for name in ("references.json", "therapies.json"):
        for row in json.loads(
            (Path(settings.BASE_DIR) / "fixtures" / name).read_text()
        ):
            model = apps.get_model(row["model"])
            for field in model._meta.concrete_fields:
                if isinstance(field, BoundedTextField):
                    value = row["fields"].get(field.name) or ""
                    assert len(value) <= field.max_length, (row["model"], field.name)


# --- Commands on a database that cannot be written --------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "command, args",
    [
        ("api_token", ["curator"]),
        ("ensure_admin", ["--username", "root-of-all"]),
        ("load_curated", []),
    ],
)
def test_writing_commands_on_a_read_only_database_end_with_a_clean_error(
    curator, command, args
):
    with read_only_database(), pytest.raises(CommandError) as caught:
        call_command(command, *args)
    assert str(caught.value) == f"{READ_ONLY[connection.vendor]}. Nothing was written."


@pytest.mark.django_db(transaction=True)
def test_an_import_on_a_read_only_database_ends_with_a_clean_error():
    from pathlib import Path

    pubmed = Path(__file__).parent.parent / "data" / "pubmed_29963580.xml"
    with read_only_database(), pytest.raises(CommandError) as caught:
        call_command("import_pubmed", str(pubmed))
    message = str(caught.value)
    assert message.endswith("Nothing was written.")
    assert "read" in message.lower() and "only" in message.lower()


def test_every_command_of_the_project_has_the_clean_error_base():
    from django.core.management import get_commands, load_command_class

    from her2db.commands import Command

    ours = {
        name: app
        for name, app in get_commands().items()
        if app in ("references", "therapies")
    }
    assert ours
    for name, app in ours.items():
        assert isinstance(load_command_class(app, name), Command), name


@pytest.mark.django_db
@pytest.mark.parametrize("parameter", ["since", "until"])
def test_an_empty_moment_in_the_change_feed_is_a_400(anon, parameter):
    response = anon.get(f"{API}/changes/?{parameter}=")
    assert response.status_code == 400
    assert response.json() == {
        parameter: ["Give a moment (ISO 8601), or leave the parameter out."]
    }
    assert anon.get(f"{API}/changes/").status_code == 200
