"""The claim under review in the admin, its author, and a second editor."""

import pytest

from her2db.operations import operation
from tests.conftest import _user_in, make_evidence
from therapies.models import Evidence


@pytest.fixture
def author(db):
    """The curator who created and submitted the accepted claim."""
    return _user_in("Curators", "author")


@pytest.fixture
def accepted(author):
    with operation():
        return make_evidence(status=Evidence.Status.ACCEPTED, created_by=author)


@pytest.fixture
def second_editor(db):
    return _user_in("Editors", "second-editor")
