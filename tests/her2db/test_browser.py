"""Every page, as each person sees it, in a real browser: it answers as it
should, fits a 1280 px window, logs no error, breaks no Content-Security-Policy
rule and asks nothing of any host but HER2db's own.

The admin's changelist, add and change pages of every registered model, its
home and import pages, the pages its actions lead to (merging authors), the
home page, the map, the API's documentation, its root and each of its lists;
for an anonymous reader, a superuser, a curator and an editor. One object of
each model is written once for all of them.
"""

import re
from pathlib import Path

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse
from knox.models import AuthToken
from playwright.sync_api import expect

from her2db.operations import operation
from her2db.registry import registry
from references.models import Citation, DistinctAuthors
from tests import factories
from tests.browser import new_context, overflow, watch
from tests.her2db.test_admin import MAKERS
from therapies.models import Agent, Evidence

pytestmark = pytest.mark.browser

# Expected to fail today, each with its reason: pages by page id (see PAGES)
# and walks by test name. Delete an entry once it passes (XPASS shows when).
KNOWN: dict[str, str] = {
    # Nothing is known to fail today: a page or walk that cannot pass yet is
    # listed here, with why, and marked as an expected failure.
}

DATA = Path(__file__).resolve().parent.parent / "data"

PERSONAS = ["anonymous", "superuser", "curator", "editor"]
MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)
VIEWS = ["changelist", "add", "change"]
# (model, view): the confirmation of merging the author and the first author
# of the citation (tests/her2db/test_admin.py's makers). Those who may not use
# it are sent back to the changelist, where a message says why.
ACTION_PAGES = [("references.Author", "merge")]
# What a page needs before it is looked at: its scripts render after load
# (Redoc takes long over the whole schema).
READY = {
    "/api/docs/": (".swagger-ui .opblock", 30_000),
    "/api/redoc/": (".api-content", 90_000),
}
# The documentation is the same page with the same schema for everyone.
ONLY = {
    "/api/docs/": ["anonymous", "curator"],
    "/api/redoc/": ["anonymous", "curator"],
}

PAGES = [
    "/",
    # Every page asks for it; its absence is this page's failure, not theirs.
    "/favicon.ico",
    "/map/",
    "/admin/",
    "/admin/import/",
    "/api/docs/",
    "/api/redoc/",
    "/api/v1/",
    *(f"/api/v1/{resource.basename}/" for resource in registry.endpoints()),
    *(f"{model._meta.label} {view}" for model in MODELS for view in VIEWS),
    # Pages an action of a changelist leads to, with what it acts on.
    *(f"{label} {view}" for label, view in ACTION_PAGES),
]


def _token():
    user = User.objects.create_user("token-holder")
    return AuthToken.objects.create(user=user)[0]


# A failed login as django-axes records it (the lockout's admin pages).
ATTEMPT = {
    "user_agent": "Browser test",
    "ip_address": "127.0.0.9",
    "username": "someone",
    "http_accept": "text/html",
    "path_info": "/admin/login/",
}

# One object of each model beyond the curated ones of tests/her2db/test_admin.
OTHER_MAKERS = {
    Group: lambda: Group.objects.get(name="Curators"),
    User: lambda: User.objects.create_user("someone", "someone@example.org"),
    AuthToken: _token,
    AccessAttempt: lambda: AccessAttempt.objects.create(
        **ATTEMPT, get_data="", post_data="", failures_since_start=1
    ),
    AccessLog: lambda: AccessLog.objects.create(**ATTEMPT),
    AccessFailureLog: lambda: AccessFailureLog.objects.create(**ATTEMPT),
}


@pytest.fixture(scope="class")
def site(django_db_setup, django_db_blocker, browser_server, chromium):
    """One object of each model and the people, written (and committed) once
    for every page; the database is emptied afterwards."""
    with django_db_blocker.unblock():
        with operation():
            objects = {model: {**MAKERS, **OTHER_MAKERS}[model]() for model in MODELS}
            people = {
                "superuser": User.objects.create_superuser("boss"),
                "curator": _staff("curator", "Curators"),
                "editor": _staff("editor", "Editors"),
            }
        contexts = {
            persona: new_context(chromium, browser_server.url, people.get(persona))
            for persona in PERSONAS
        }
        pages = {}
        for persona, context in contexts.items():
            page = context.new_page()
            pages[persona] = page, watch(page)
        try:
            yield {"objects": objects, "people": people, "pages": pages}
        finally:
            for context in contexts.values():
                context.close()
            call_command("flush", interactive=False, verbosity=0)


def _staff(username: str, group: str) -> User:
    user = User.objects.create_user(username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def _admin_page(page_id: str, objects: dict):
    """The URL of an admin page, and the model admin serving it."""
    label, view = page_id.split()
    model = next(m for m in MODELS if m._meta.label == label)
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}"
    args = [objects[model].pk] if view == "change" else []
    url = reverse(name, args=args)
    if view == "merge":
        other = objects[Citation].ordered_authors()[0]
        url += f"?ids={objects[model].pk},{other.pk}"
    return url, admin.site._registry[model], objects[model]


def _changelist(page_id: str) -> str:
    model = next(m for m in MODELS if m._meta.label == page_id.split()[0])
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def _allowed(model_admin, view: str, user: User, obj) -> bool:
    request = RequestFactory().get("/")
    request.user = user
    if view == "add":
        return model_admin.has_add_permission(request)
    if view == "merge":
        return model_admin.has_merge_permission(request)
    return model_admin.has_view_or_change_permission(
        request, obj if view == "change" else None
    )


def _expected(page_id: str, persona: str, site: dict):
    """The page's URL and the status it should answer this persona with."""
    if not page_id.startswith("/"):
        url, model_admin, obj = _admin_page(page_id, site["objects"])
        if persona == "anonymous":
            return url, "login"
        view = page_id.split()[1]
        allowed = _allowed(model_admin, view, site["people"][persona], obj)
        if view == "merge" and not allowed:
            return url, "sent back"
        return url, 200 if allowed else 403
    if page_id.startswith("/admin/") and persona == "anonymous":
        return page_id, "login"
    return page_id, 200


def _param(page_id: str, persona: str):
    marks = []
    # An admin page sends a reader to the login page, whatever it shows others.
    login = persona == "anonymous" and not page_id.startswith("/")
    if page_id in KNOWN and not login:
        marks = [pytest.mark.xfail(strict=False, reason=KNOWN[page_id])]
    return pytest.param(page_id, persona, marks=marks, id=f"{persona}:{page_id}")


# Read-only: the data is written once for the class (`site`), each test's own
# transaction (django_db) is rolled back as usual.
@pytest.mark.django_db
class TestEveryPage:
    @pytest.mark.parametrize(
        ("page_id", "persona"),
        [_param(p, who) for p in PAGES for who in ONLY.get(p, PERSONAS)],
    )
    def test_answers_fits_and_stays_on_its_own_host(
        self, site, browsing, page_id, persona
    ):
        url, expected = _expected(page_id, persona, site)
        page, seen = browsing.reuse_page(*site["pages"][persona])
        response = page.goto(url)
        if expected == "login":
            # Sent to the login page, which is then shown as any other.
            assert response.request.redirected_from is not None
            assert page.url.startswith(f"{browsing.url}/admin/login/?next=")
            expected = 200
        elif expected == "sent back":
            # To the changelist, whose message says why.
            assert response.request.redirected_from is not None
            assert page.url == f"{browsing.url}{_changelist(page_id)}"
            expect(page.locator(".messagelist")).to_contain_text("may not merge")
            expected = 200
        assert response.status == expected, page.url
        if page_id in READY and expected == 200:
            selector, timeout = READY[page_id]
            page.wait_for_selector(selector, timeout=timeout)
        errors = [e for e in seen.problems() if "/favicon.ico" not in e]
        if expected != 200:
            # The refusal itself is the one error the browser reports.
            errors = [e for e in errors if f"status of {expected}" not in e]
        assert errors == []
        assert overflow(page) == 0, f"{overflow(page)} px wider than the window"


# The walks: what curators, editors and readers do, start to end.


def known(test):
    """Mark a walk expected to fail today when KNOWN lists it."""
    reason = KNOWN.get(test.__name__)
    return pytest.mark.xfail(strict=False, reason=reason)(test) if reason else test


def _person(username: str, group: str) -> User:
    return _staff(username, group)


def choose(page, select_id: str, text: str) -> None:
    """Pick `text` in an autocomplete field, typing as a curator would."""
    page.locator(f"#{select_id} + .select2").click()
    page.keyboard.type(text)
    page.locator(".select2-results__option", has_text=text).first.click()


def assert_clean(browsing) -> None:
    """No page of the walk logged an error, broke the CSP or left the host."""
    problems = {
        page.url: [e for e in seen.problems() if "/favicon.ico" not in e]
        for page, seen in browsing.pages
    }
    assert {url: found for url, found in problems.items() if found} == {}


@known
def test_claim_walk_from_curator_to_editor_to_reader(transactional_db, browsing):
    agent = factories.make_agent(name="walkumab", slug="walkumab")
    factories.make_mechanism(name="Walk pathway loss", slug="walk-pathway-loss")
    factories.make_citation(citekey="Walker2024", title="Walking away from HER2")
    statement = "Loss of the walk pathway confers resistance to walkumab."

    # A curator writes the claim and submits it for review.
    page, _ = browsing.open_page(browsing.context(_person("curator", "Curators")))
    page.goto("/admin/therapies/evidence/add/")
    choose(page, "id_agents", "walkumab")
    choose(page, "id_mechanism", "Walk pathway loss")
    page.select_option("#id_effect", "CONFERS_RESISTANCE")
    page.select_option("#id_level", "D")
    page.select_option("#id_model_system", "CELL_LINE")
    page.fill("#id_statement", statement)
    choose(page, "id_evidence_citations-0-citation", "Walker2024")
    page.fill("#id_evidence_citations-0-quote", "Cells without it grew on walkumab.")
    page.fill("#id_evidence_citations-0-location", "Fig. 2")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    page.click("button[name=_transition][value=submit]")
    page.click("input[type=submit][value='Submit evidence']")
    expect(page.locator(".messagelist")).to_contain_text("Submit: 1 claim(s).")
    claim = Evidence.objects.get(statement=statement)
    assert claim.status == Evidence.Status.SUBMITTED

    # An editor accepts it from the claim's page.
    page, _ = browsing.open_page(browsing.context(_person("editor", "Editors")))
    page.goto(f"/admin/therapies/evidence/{claim.pk}/change/")
    page.click("button[name=_transition][value=accept]")
    page.click("input[type=submit][value='Accept evidence']")
    expect(page.locator(".messagelist")).to_contain_text("Accept: 1 claim(s).")
    claim.refresh_from_db()
    assert claim.status == Evidence.Status.ACCEPTED

    # A reader with no account finds it in the API, by its agent and by itself.
    page, _ = browsing.open_page()
    page.goto(f"/api/v1/evidence/?agent={agent.slug}")
    expect(page.locator(".response-info")).to_contain_text(statement)
    page.goto(f"/api/v1/evidence/{claim.uid}/")
    expect(page.locator(".response-info")).to_contain_text(statement)
    # And on the map: a cell of its agent and mechanism, leading to it.
    page.goto("/map/")
    page.locator(
        f"svg a[href*='{agent.slug}'][href*='walk-pathway-loss']"
    ).first.click()
    expect(page.locator("body")).to_contain_text(statement)
    assert_clean(browsing)


def _concurrent_edit(browsing):
    """Two people open one target; the curator saves first, then the editor."""
    target = factories.make_target(symbol="WALK1", name="walk gene")
    url = f"/admin/therapies/target/{target.pk}/change/"
    first, _ = browsing.open_page(browsing.context(_person("curator", "Curators")))
    second, _ = browsing.open_page(browsing.context(_person("editor", "Editors")))
    first.goto(url)
    second.goto(url)
    first.fill("#id_name", "walk gene, renamed")
    first.click("input[name=_save]")
    expect(first.locator(".messagelist")).to_contain_text("was changed successfully")
    second.fill("#id_aliases", "WLK1")
    second.click("input[name=_save]")
    target.refresh_from_db()
    assert (target.name, target.aliases) == ("walk gene, renamed", "")
    return second.locator(".errorlist.nonfield")


@known
def test_concurrent_edit_is_refused_naming_who_changed_it(transactional_db, browsing):
    refusal = _concurrent_edit(browsing)
    expect(refusal).to_contain_text("This record was changed by curator")
    expect(refusal).to_contain_text("Your changes were not saved")
    assert_clean(browsing)


@known
def test_concurrent_edit_refusal_shows_what_they_changed(transactional_db, browsing):
    refusal = _concurrent_edit(browsing)
    # Beside the refusal, each field they changed: as opened, theirs, mine.
    table = refusal.page.locator("#edit-conflicts")
    expect(table).to_contain_text("Name")
    expect(table).to_contain_text("walk gene, renamed")


@known
def test_import_upload_previews_imports_and_opens_the_citation(
    transactional_db, browsing
):
    page, _ = browsing.open_page(browsing.context(_person("curator", "Curators")))
    page.goto("/admin/")
    page.click("text=Import a file")
    page.set_input_files("input[type=file]", DATA / "pubmed_29963580.xml")
    page.click("input[type=submit][value=Preview]")
    expect(page.locator("#content-main")).to_contain_text("Nothing has been written")
    assert not Citation.objects.filter(pmid="29963580").exists()
    page.click("input[type=submit][value=Import]")
    expect(page.locator("#content-main")).to_contain_text("changed")
    citation = Citation.objects.get(pmid="29963580")

    page.goto("/admin/references/citation/?q=29963580")
    page.click(f"#result_list a:has-text('{citation.citekey}')")
    expect(page).to_have_url(
        re.compile(rf"/admin/references/citation/{citation.pk}/change/")
    )
    expect(page.locator("#id_pmid")).to_have_value("29963580")
    expect(page.locator("#id_title")).to_have_value(citation.title)
    assert_clean(browsing)


def _refused_delete(browsing):
    """An editor asks to delete an agent that a claim uses."""
    agent = factories.make_agent(name="usedumab", slug="usedumab")
    claim = factories.make_evidence(agents=[agent])
    page, _ = browsing.open_page(browsing.context(_person("editor", "Editors")))
    page.goto(f"/admin/therapies/agent/{agent.pk}/delete/")
    return page, agent, claim


@known
def test_delete_of_a_used_agent_is_refused(transactional_db, browsing):
    page, agent, _ = _refused_delete(browsing)
    expect(page.locator("#content")).to_contain_text("protected related objects")
    expect(page.locator("#content input[type=submit]")).to_have_count(0)
    assert Agent.objects.filter(pk=agent.pk).exists()
    assert_clean(browsing)


@known
def test_delete_refusal_links_each_dependant(transactional_db, browsing):
    page, _, claim = _refused_delete(browsing)
    link = page.locator(
        f"#content a[href$='/admin/therapies/evidence/{claim.pk}/change/']"
    )
    expect(link).to_have_count(1)


def _delete_in_admin(page, agent, reason: str = "") -> None:
    page.goto(f"/admin/therapies/agent/{agent.pk}/delete/")
    if reason:
        page.get_by_label(re.compile("reason", re.IGNORECASE)).fill(reason)
    page.click("input[type=submit]")
    expect(page.locator(".messagelist")).to_contain_text("was deleted successfully")


@known
def test_delete_with_a_reason_keeps_the_reason(transactional_db, browsing):
    agent = factories.make_agent(name="doomumab", slug="doomumab")
    page, _ = browsing.open_page(browsing.context(_person("editor", "Editors")))
    _delete_in_admin(page, agent, reason="entered twice; see walkumab")
    page.goto("/admin/therapies/agent/deleted/")
    expect(page.locator("#content")).to_contain_text("entered twice; see walkumab")


@known
def test_deleted_agent_is_restored_from_deleted_records(transactional_db, browsing):
    agent = factories.make_agent(name="lazarumab", slug="lazarumab")
    page, _ = browsing.open_page(browsing.context(_person("editor", "Editors")))
    _delete_in_admin(page, agent)
    assert not Agent.objects.filter(slug="lazarumab").exists()
    page.goto("/admin/therapies/agent/deleted/")
    page.locator("tr", has_text="lazarumab").locator("input[value=Restore]").click()
    expect(page.locator(".messagelist")).to_contain_text("Restored agent")
    expect(page).to_have_url(re.compile(rf"/admin/therapies/agent/{agent.pk}/change/$"))
    assert Agent.objects.get(pk=agent.pk).name == "lazarumab"
    assert_clean(browsing)


def _select_authors(page, *authors) -> None:
    for author in authors:
        page.locator(f"input[name=_selected_action][value='{author.pk}']").check()


@known
def test_two_spellings_marked_different_then_merged(transactional_db, browsing):
    wang = factories.make_author(family_name="Wangwalk", given_name="Y.")
    wang_c = factories.make_author(family_name="Wangwalk", given_name="Y. C.")
    short = factories.make_author(family_name="Slamwalk", given_name="D.")
    full = factories.make_author(family_name="Slamwalk", given_name="D. J.")
    paper = factories.make_citation(citekey="Slamwalk1987")
    for position, author in enumerate([short, wang, full], start=1):
        paper.citation_authors.create(author=author, position=position)

    # A curator says the Wangwalks are two people, with a note.
    page, _ = browsing.open_page(browsing.context(_person("curator", "Curators")))
    page.goto("/admin/references/author/?q=Wangwalk")
    _select_authors(page, wang, wang_c)
    page.select_option("select[name=action]", "mark_different_people")
    page.click("button[name=index]")
    page.fill("#id_note", "one in Taipei, one in Boston")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert DistinctAuthors.objects.of_pair(wang, wang_c).exists()

    # An editor merges the Slamwalks, keeping the fuller spelling.
    page, _ = browsing.open_page(browsing.context(_person("editor", "Editors")))
    page.goto("/admin/references/author/?q=Slamwalk")
    _select_authors(page, short, full)
    page.select_option("select[name=action]", "merge")
    page.click("button[name=index]")
    expect(page.locator("#merge-shared")).to_contain_text("Slamwalk1987")
    expect(page.locator(f"#id_kept_{full.pk}")).to_be_checked()
    page.get_by_label(re.compile("reason", re.IGNORECASE)).fill("same lab")
    page.click("input[type=submit][value='Merge authors']")
    expect(page.locator(".messagelist")).to_contain_text(
        "Merged 1 author(s) into Slamwalk D. J."
    )
    expect(page).to_have_url(
        re.compile(rf"/admin/references/author/{full.pk}/change/$")
    )
    assert [str(a) for a in paper.ordered_authors()] == [
        "Wangwalk Y.",
        "Slamwalk D. J.",
    ]
    assert_clean(browsing)


@known
def test_map_renders_for_a_reader_and_a_curator(transactional_db, browsing):
    factories.make_evidence()
    for user in (None, _person("curator", "Curators")):
        page, _ = browsing.open_page(browsing.context(user))
        response = page.goto("/map/")
        assert response.status == 200
        expect(page.locator("svg").first).to_be_visible()
        assert overflow(page) == 0
    assert_clean(browsing)


@known
def test_map_cell_leads_to_its_accepted_claims(transactional_db, browsing):
    agent = factories.make_agent(name="mapumab", slug="mapumab")
    mechanism = factories.make_mechanism(name="Map loss", slug="map-loss")
    claim = factories.make_evidence(
        agents=[agent], mechanism=mechanism, statement="Map loss resists mapumab."
    )
    page, _ = browsing.open_page()
    page.goto("/map/")
    # The cell of this agent and mechanism: a link naming both.
    cell = page.locator(
        f"svg a[href*='{agent.slug}'][href*='{mechanism.slug}'], "
        f"svg a[href*='{agent.pk}'][href*='{mechanism.pk}']"
    ).first
    cell.click()
    expect(page.locator("body")).to_contain_text(claim.statement)
    assert_clean(browsing)


# The Content-Security-Policy forbids inline scripts: the pages whose scripts
# matter still work under it.


def test_swagger_ui_lists_and_opens_operations(transactional_db, browsing):
    page, _ = browsing.open_page()
    page.goto("/api/docs/")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() > 10
    operations.first.locator(".opblock-summary").click()
    expect(operations.first.locator(".opblock-body")).to_be_visible()
    assert_clean(browsing)


def test_redoc_renders_the_schema(transactional_db, browsing):
    page, _ = browsing.open_page()
    page.goto("/api/redoc/")
    heading = page.locator(".api-content h1").first
    expect(heading).to_contain_text("HER2db API", timeout=90_000)
    expect(page.locator("[role=menuitem]").first).to_be_visible()


def test_admin_scripts_add_inline_rows_and_fill_the_slug(transactional_db, browsing):
    page, _ = browsing.open_page(browsing.context(_person("curator", "Curators")))
    page.goto("/admin/therapies/agent/add/")
    page.locator("#id_name").press_sequentially("scriptumab vedotin")
    expect(page.locator("#id_slug")).to_have_value("scriptumab-vedotin")
    rows = page.locator("#aliases-group tbody tr.form-row:not(.empty-form)")
    before = rows.count()
    page.locator("#aliases-group .add-row a").click()
    expect(rows).to_have_count(before + 1)
    assert_clean(browsing)
