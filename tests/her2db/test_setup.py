"""Settings fail loudly, production settings pass check --deploy, and the
set-up commands behind `make run` can run any number of times."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent.parent


def manage(*args, **env):
    environment = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="False",
        SECRET_KEY="x" * 60 + "production-secret-key-for-the-test",
        ALLOWED_HOSTS="her2db.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "env,message",
    [
        ({"DEBUG": "maybe"}, "DEBUG must be true or false"),
        ({"DEBUG": "False", "SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({"CONN_MAX_AGE": "ten", "DATABASE_URL": "postgres://x@h/db"}, "CONN_MAX_AGE"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL must be a postgres"),
        (
            {
                "DATABASE_URL": "sqlite:///x.sqlite3",
                "DATABASE_REPLICA_URLS": "",
                "SQLITE_MMAP_BYTES": "lots",
            },
            "SQLITE_MMAP_BYTES",
        ),
        (
            {"DATABASE_URL": "postgres://x@h/db", "PG_PREPARE_THRESHOLD": "often"},
            "PG_PREPARE_THRESHOLD",
        ),
    ],
)
def test_bad_settings_stop_start_up_with_a_named_error(env, message):
    result = manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize(
    "setting,mapped", [(None, 2**30), ("12345678", 12345678), ("0", 0)]
)
def test_sqlite_reads_its_file_through_a_memory_map_of_the_size_set(
    tmp_path, setting, mapped
):
    # Replicas (set when the suite runs on PostgreSQL) would not be SQLite.
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "DATABASE_REPLICA_URLS": "",
    }
    if setting is not None:
        env["SQLITE_MMAP_BYTES"] = setting
    asked = (
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('PRAGMA mmap_size')\n"
        "    print(cursor.fetchone()[0])"
    )
    result = manage("shell", "-c", asked, **env)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[-1]) == mapped


@pytest.mark.parametrize("setting,expected", [(None, None), ("2", 2), ("0", None)])
def test_postgresql_binds_on_the_server_and_prepares_what_repeats(setting, expected):
    env = {
        "DATABASE_URL": "postgres://x@h/db",
        "DATABASE_REPLICA_URLS": "postgres://x@r/db",
    }
    if setting is not None:
        env["PG_PREPARE_THRESHOLD"] = setting
    asked = (
        "from django.conf import settings\n"
        "for alias, database in sorted(settings.DATABASES.items()):\n"
        "    options = database.get('OPTIONS', {})\n"
        "    print(alias, options.get('server_side_binding'),"
        " options.get('prepare_threshold'))"
    )
    result = manage("shell", "-c", asked, **env)
    assert result.returncode == 0, result.stderr
    shown = result.stdout.split()[-6:]
    binding = "True" if expected else "None"
    assert shown == [
        "default",
        binding,
        str(expected),
        "replica1",
        binding,
        str(expected),
    ]


@pytest.mark.django_db
def test_a_statement_run_again_is_prepared_on_postgresql_when_asked():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    database = connection.settings_dict
    url = (
        f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )
    asked = (
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    for _ in range(3):\n"
        "        cursor.execute('SELECT 1 + %s', [1])\n"
        "    cursor.execute('SELECT statement FROM pg_prepared_statements')\n"
        "    print([s for (s,) in cursor.fetchall()])"
    )
    for setting, prepared in (("2", True), ("0", False)):
        result = manage(
            "shell",
            "-c",
            asked,
            DATABASE_URL=url,
            DATABASE_REPLICA_URLS="",
            PG_PREPARE_THRESHOLD=setting,
        )
        assert result.returncode == 0, result.stderr
        assert ("SELECT 1 + $1" in result.stdout) is prepared, result.stdout


@pytest.mark.django_db
def test_ensure_admin_creates_once_and_prints_the_password_once(capsys):
    call_command("ensure_admin")
    first = capsys.readouterr().out
    assert "Created admin login: admin / " in first
    password = first.split("admin / ")[1].split()[0]
    assert User.objects.get(username="admin").check_password(password)
    call_command("ensure_admin")
    second = capsys.readouterr().out
    assert password not in second
    assert User.objects.filter(username="admin").count() == 1
