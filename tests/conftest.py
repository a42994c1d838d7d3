"""Personas, the shipped data, and the factories (tests/factories.py) re-exported."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from her2db import replicas
from her2db.operations import operation
from tests.factories import (  # noqa: F401  (imported from here by many tests)
    errors_of,
    make_agent,
    make_approval,
    make_author,
    make_citation,
    make_evidence,
    make_mechanism,
    make_target,
    make_trial,
    n,
)

# Fixtures of the API tests (clients by persona, a small connected data set),
# of the importer tests (the curated data's agents and citations) and of the
# browser tests (Chromium on a live server), for every directory.
pytest_plugins = ["tests.api_clients", "tests.importers", "tests.browser"]

# The benchmarks (`make bench`) live in tests/bench; none of it is a test.
collect_ignore_glob = ["bench/*"]


@pytest.fixture(autouse=True)
def one_operation_per_test():
    """Each test is an operation of its own, as a management command would be."""
    with operation():
        yield


@pytest.fixture(autouse=True)
def reads_on_the_primary(request, monkeypatch):
    """Every test reads on the primary, where its own uncommitted rows are,
    but those marked `replicas` (tests/her2db/test_replicas.py), which test
    the routing itself with committed rows."""
    if request.node.get_closest_marker("replicas") is None:
        monkeypatch.setattr(replicas, "replica_aliases", list)


@pytest.fixture(autouse=True)
def private_uploads(settings, tmp_path_factory):
    """Admin uploads wait in the test run's own folder, not the checkout's."""
    settings.UPLOAD_DIR = tmp_path_factory.getbasetemp() / "uploads"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Personas' passwords are never used: skip the deliberate slowness."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _user_in(group: str | None, username: str) -> User:
    user = User.objects.create_user(username=username, password="pw-not-used-12345")
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def curator(db) -> User:
    return _user_in("Curators", "curator")


@pytest.fixture
def editor(db) -> User:
    return _user_in("Editors", "editor")


@pytest.fixture
def nobody(db) -> User:
    """A logged-in account with no rights at all."""
    return _user_in(None, "nobody")


def staff_client(user: User) -> Client:
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def curator_client(curator) -> Client:
    return staff_client(curator)


@pytest.fixture
def editor_client(editor) -> Client:
    return staff_client(editor)


# Data held for a group of tests: the shipped data set (fixtures/, loaded by
# load_curated), the API tests' world and the query-count tests' richer one,
# each written once a run.
#
# It is written in a transaction left open while the tests asking for it run,
# each in its own savepoint as usual (what one test changes, the next does
# not see), and rolled back after the last of them, so every other test still
# starts from an empty database. The tests of each group run one after the
# other, after the rest (pytest_collection_modifyitems below): each data set
# is written once. Run in another order (-p randomly, --ff), it is written
# again for each run of consecutive tests that need it, never seen by others.


class HeldData:
    """Rows written by fill() in a transaction opened outside any test and
    held open while the tests using them run; unload() rolls it back."""

    def __init__(self, blocker, fill):
        self.blocker = blocker
        self.fill = fill
        self.atomic = None
        self.value = None

    def load(self):
        if self.atomic is None:
            with self.blocker.unblock():
                self.atomic = transaction.atomic()
                self.atomic.__enter__()
                try:
                    self.value = self.fill()
                except BaseException:
                    self.unload()  # not a broken transaction under every test
                    raise

    def unload(self):
        if self.atomic is not None:
            with self.blocker.unblock():
                transaction.set_rollback(True)
                self.atomic.__exit__(None, None, None)
            self.atomic = self.value = None


# By the session fixture that writes it; in the order the groups run.
HELD = ["held_world", "held_rich_world", "shipped_data"]
_held: dict[str, HeldData] = {}


def _held_for(item) -> str | None:
    names = getattr(item, "fixturenames", ())
    return next((name for name in HELD if name in names), None)


def _unload_all_but(name: str | None) -> None:
    for other, held in _held.items():
        if other != name:
            held.unload()


def _hold(name: str, blocker, fill):
    """Session-scoped, so set up before the test's own transaction."""
    _unload_all_but(name)
    held = _held[name] = HeldData(blocker, fill)
    held.load()
    yield held
    held.unload()
    del _held[name]


@pytest.fixture(scope="session")
def shipped_data(django_db_setup, django_db_blocker):
    """The shipped curated data set, in the test database (see above); ask for
    it along with `db` (or the django_db mark) as usual."""
    yield from _hold(
        "shipped_data",
        django_db_blocker,
        lambda: call_command("load_curated", verbosity=0),
    )


@pytest.fixture(scope="session")
def held_world(django_db_setup, django_db_blocker):
    from tests.api_clients import build_world

    yield from _hold("held_world", django_db_blocker, build_world)


def _group(item) -> int:
    # Browser tests last: they commit what they write (the live server reads
    # it from another thread or connection) and leave an emptied database.
    if item.get_closest_marker("browser"):
        return len(HELD) + 1
    name = _held_for(item)
    return HELD.index(name) + 1 if name else 0


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    # After pytest-django's own ordering, which the stable sort keeps.
    items.sort(key=_group)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    name = _held_for(item)
    _unload_all_but(name)
    if name in _held:
        _held[name].load()  # again, when other tests ran since it was unloaded
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield  # the test's own fixtures (and transaction) are gone now
    if nextitem is not None:
        _unload_all_but(_held_for(nextitem))
    return result
