"""`make bench`: how close the API's list endpoints come to the floor.

Builds a scaled synthetic data set in a database of its own (a SQLite file in
the temporary directory, or `<name>_bench` beside the PostgreSQL database of
DATABASE_URL; never the development database), then for each list endpoint
at 50 rows a page, and for search, times the API in process (middleware,
authentication, throttling, filtering, paging, serializers, ETag) against a
floor: the same rows and the same JSON from hand-written SQL and orjson. The
floor's JSON is checked equal to the API's before anything is timed.
"""

import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import orjson
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections, transaction
from django.test import Client

from references.models import Author, Citation, CitationAuthor
from therapies.models import (
    Agent,
    AgentAlias,
    AgentTarget,
    Approval,
    Evidence,
    EvidenceAgent,
    EvidenceCitation,
    EvidenceTrial,
    Mechanism,
    MechanismGene,
    Target,
    Trial,
    TrialArm,
    TrialArmAgent,
    TrialPublication,
)

HOST = "http://localhost"
API = f"{HOST}/api/v1"
PAGE = 50
SEARCH_WORD = "resistance"
SIZES = {
    "targets": 300,
    "agents": 500,
    "mechanisms": 200,
    "citations": 10_000,
    "authors": 15_000,
    "trials": 2_000,
    "evidence": 20_000,
}
VOCABULARY = (
    "HER2 amplification trastuzumab pertuzumab lapatinib neratinib tucatinib "
    "resistance sensitivity PI3K AKT mTOR PTEN PIK3CA mutation p95HER2 "
    "truncated receptor signalling compensatory estrogen receptor ERBB3 "
    "heregulin MUC4 CD44 immune microenvironment ADC payload lysosomal "
    "efflux cyclin CDK4 tumour patients cohort xenograft cell line response "
    "survival progression benefit treatment adjuvant metastatic breast cancer"
)
WORDS = VOCABULARY.split()


class Command(BaseCommand):
    help = __doc__.splitlines()[0]
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--repeat", type=int, default=25, help="Timed runs of each (median)."
        )
        parser.add_argument(
            "--scale", type=float, default=1.0, help="Multiply the data set's size."
        )
        parser.add_argument(
            "--keep",
            action="store_true",
            help="Reuse the benchmark database if it is already filled.",
        )

    def handle(self, *args, repeat, scale, keep, **options):
        name = self.use_bench_database()
        self.stdout.write(f"Benchmark database: {name} ({connection.vendor})")
        call_command("migrate", verbosity=0, interactive=False)
        sizes = {k: max(1, int(v * scale)) for k, v in SIZES.items()}
        if keep and Evidence.objects.count() == sizes["evidence"]:
            self.stdout.write("Reusing the data set already there.")
        else:
            started = time.perf_counter()
            build(sizes)
            self.stdout.write(
                f"Built the data set in {time.perf_counter() - started:.0f} s"
            )
        self.stdout.write(
            "Rows: "
            + ", ".join(
                f"{model.__name__} {model.objects.count()}"
                for model in (Citation, CitationAuthor, Trial, TrialArm, Agent)
                + (Mechanism, Evidence, EvidenceAgent, EvidenceCitation)
            )
        )
        # Timing as in production: no query log.
        settings.DEBUG = False
        self.measure(repeat)

    def use_bench_database(self) -> str:
        """Point the default connection at the benchmark's own database."""
        current = settings.DATABASES["default"]
        connections.close_all()
        if current["ENGINE"] == "django.db.backends.postgresql":
            name = f"{current['NAME']}_bench"
            with connection._nodb_cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{name}"')
        else:
            name = str(Path(tempfile.gettempdir()) / "her2db-bench.sqlite3")
        if name == str(current["NAME"]):
            raise CommandError("Refusing to benchmark in the development database.")
        current["NAME"] = name
        connection.settings_dict["NAME"] = name
        return name

    def measure(self, repeat: int) -> None:
        client = Client(HTTP_HOST="localhost")
        rows = []
        for label, url, floor in ENDPOINTS:
            api_json = get(client, url)
            if api_json.status_code != 200:
                raise CommandError(f"{url}: {api_json.status_code}")
            floor_json = floor()
            if orjson.loads(api_json.content) != orjson.loads(floor_json):
                raise CommandError(f"{label}: the floor's JSON differs from the API's")
            api, low = timed(lambda url=url: get(client, url), floor, repeat)
            rows.append((label, api, low, len(api_json.content)))
        self.stdout.write("")
        self.stdout.write(
            f"{'endpoint (page of 50)':<28}{'API ms':>9}{'floor ms':>10}"
            f"{'ratio':>7}{'KB':>7}"
        )
        for label, api, low, size in rows:
            self.stdout.write(
                f"{label:<28}{api * 1000:>9.1f}{low * 1000:>10.1f}"
                f"{api / low:>7.2f}{size / 1024:>7.0f}"
            )
        worst = max(api / low for _, api, low, _ in rows)
        self.stdout.write(f"\nWorst ratio {worst:.2f} (goal: at most 2.0).")


def get(client, url: str):
    # Each request as a reader's first of the minute: the anonymous throttle
    # does its work, but the benchmark's own traffic never trips it.
    cache.clear()
    return client.get(url)


def timed(api, floor, repeat: int) -> tuple[float, float]:
    """Median seconds of each, run in turns so that both see the same machine."""
    times = {api: [], floor: []}
    for run in range(repeat + 3):
        for call in (api, floor):
            started = time.perf_counter()
            call()
            if run >= 3:  # the first runs warm caches
                times[call].append(time.perf_counter() - started)
    return statistics.median(times[api]), statistics.median(times[floor])


# --- The data set -------------------------------------------------------------


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


@transaction.atomic
def build(sizes: dict) -> None:
    """A deterministic synthetic data set, written with bulk_create."""
    for model in (
        EvidenceTrial,
        EvidenceCitation,
        EvidenceAgent,
        Evidence,
        TrialArmAgent,
        TrialArm,
        TrialPublication,
        Trial,
        MechanismGene,
        Mechanism,
        Approval,
        AgentTarget,
        AgentAlias,
        Agent,
        Target,
        CitationAuthor,
        Author,
        Citation,
    ):
        model._base_manager.all()._raw_delete(model._base_manager.db)
    rng = random.Random(20250401)
    bulk = {"batch_size": 2000}

    citations = Citation.objects.bulk_create(
        [
            Citation(
                citekey=f"Author{i}{1990 + i % 35}",
                title=sentence(rng, 14),
                journal=rng.choice(["J Clin Oncol", "N Engl J Med", "Cancer Res"]),
                year=1990 + i % 35,
                volume=str(rng.randint(1, 400)),
                issue=str(rng.randint(1, 24)),
                pages=f"{rng.randint(1, 900)}-{rng.randint(901, 999)}",
                pmid=str(10_000_000 + i),
                doi=f"10.1000/bench.{i}",
                abstract=" ".join(sentence(rng, 18) for _ in range(6)),
            )
            for i in range(sizes["citations"])
        ],
        **bulk,
    )
    authors = Author.objects.bulk_create(
        [
            Author(family_name=f"Family{i}", given_name=rng.choice(["A", "BC", "D"]))
            for i in range(sizes["authors"])
        ],
        **bulk,
    )
    CitationAuthor.objects.bulk_create(
        [
            CitationAuthor(citation=c, author=a, position=p)
            for c in citations
            for p, a in enumerate(rng.sample(authors, rng.randint(1, 8)), 1)
        ],
        **bulk,
    )
    targets = Target.objects.bulk_create(
        [
            Target(
                symbol=f"GENE{i}",
                name=f"gene number {i}",
                aliases=f"G{i}, ALT{i}",
                hgnc_id=f"HGNC:{i + 1}",
            )
            for i in range(sizes["targets"])
        ],
        **bulk,
    )
    modalities = [m for m, _ in Agent.Modality.choices]
    agents = Agent.objects.bulk_create(
        [
            Agent(
                name=f"agentumab {i:04d}",
                slug=f"agentumab-{i:04d}",
                abbreviation=f"AG-{i}",
                modality="ANTIBODY_DRUG_CONJUGATE"
                if i % 10 == 0
                else modalities[i % 9],
                development_status=rng.choice(["APPROVED", "INVESTIGATIONAL"]),
                mechanism_of_action=sentence(rng, 20),
                payload="deruxtecan" if i % 10 == 0 else "",
                drug_to_antibody_ratio=Decimal("8.0") if i % 10 == 0 else None,
                linker_cleavable=True if i % 10 == 0 else None,
            )
            for i in range(sizes["agents"])
        ],
        **bulk,
    )
    AgentAlias.objects.bulk_create(
        [
            AgentAlias(agent=a, alias=f"{a.slug}-{kind.lower()}", kind=kind)
            for a in agents
            for kind in rng.sample(["BRAND", "CODE", "SYNONYM"], rng.randint(1, 2))
        ],
        **bulk,
    )
    AgentTarget.objects.bulk_create(
        [
            AgentTarget(agent=a, target=t, action=rng.choice(["INHIBITOR", "BINDER"]))
            for a in agents
            for t in rng.sample(targets, rng.randint(1, 3))
        ],
        **bulk,
    )
    Approval.objects.bulk_create(
        [
            Approval(
                agent=a,
                agency=agency,
                date=date(2000, 1, 1) + timedelta(days=rng.randint(0, 8000)),
                indication=sentence(rng, 8),
                her2_positive_breast=rng.random() < 0.5,
                citation=rng.choice(citations) if rng.random() < 0.5 else None,
            )
            for a in agents
            for agency in rng.sample(["FDA", "EMA", "PMDA"], rng.randint(0, 2))
        ],
        **bulk,
    )
    categories = [c for c, _ in Mechanism.Category.choices]
    mechanisms = []
    for i in range(sizes["mechanisms"]):
        parent = None if i < len(categories) else rng.choice(mechanisms)
        category = parent.category if parent else categories[i]
        mechanism = Mechanism(
            slug=f"mechanism-{i:03d}",
            name=f"Mechanism {i:03d}",
            category=category,
            parent=parent,
            description=sentence(rng, 30),
        )
        mechanism.save()  # one at a time: children need their parent's id
        mechanisms.append(mechanism)
    MechanismGene.objects.bulk_create(
        [
            MechanismGene(mechanism=m, target=t)
            for m in mechanisms
            for t in rng.sample(targets, rng.randint(0, 3))
        ],
        **bulk,
    )
    phases = [p for p, _ in Trial.Phase.choices]
    statuses = [s for s, _ in Trial.Status.choices]
    trials = Trial.objects.bulk_create(
        [
            Trial(
                nct_id=f"NCT{10_000_000 + i:08d}",
                acronym=f"TRIAL-{i}",
                title=sentence(rng, 12),
                phase=rng.choice(phases),
                status=rng.choice(statuses),
                setting=rng.choice(["ADJUVANT", "METASTATIC", "NEOADJUVANT"]),
                enrollment=rng.randint(20, 4000),
                start_date=f"{rng.randint(2000, 2024)}-0{rng.randint(1, 9)}",
                sponsor="Bench Sponsor",
                primary_endpoint=sentence(rng, 10),
                result_summary=sentence(rng, 25),
            )
            for i in range(sizes["trials"])
        ],
        **bulk,
    )
    arms = TrialArm.objects.bulk_create(
        [
            TrialArm(trial=t, label=f"Arm {n}", description=sentence(rng, 8))
            for t in trials
            for n in range(1, rng.randint(2, 4))
        ],
        **bulk,
    )
    TrialArmAgent.objects.bulk_create(
        [
            TrialArmAgent(arm=arm, agent=a)
            for arm in arms
            for a in rng.sample(agents, rng.randint(1, 2))
        ],
        **bulk,
    )
    TrialPublication.objects.bulk_create(
        [
            TrialPublication(trial=t, citation=c)
            for t in trials
            for c in rng.sample(citations, rng.randint(0, 3))
        ],
        **bulk,
    )
    now = datetime.now(UTC)
    levels = ["A", "B", "C", "D", "E"]
    evidence = Evidence.objects.bulk_create(
        [
            Evidence(
                uid=uuid.UUID(int=rng.getrandbits(128), version=4),
                mechanism=rng.choice(mechanisms),
                effect=rng.choice(["CONFERS_RESISTANCE", "REDUCES_SENSITIVITY"]),
                level=rng.choice(levels),
                model_system=rng.choice(["PATIENTS", "CELL_LINE", "PDX"]),
                statement=sentence(rng, 20),
                status="ACCEPTED" if rng.random() < 0.85 else "DRAFT",
                reviewed_at=now,
            )
            for _ in range(sizes["evidence"])
        ],
        **bulk,
    )
    EvidenceAgent.objects.bulk_create(
        [
            EvidenceAgent(evidence=e, agent=a)
            for e in evidence
            for a in rng.sample(agents, rng.randint(1, 2))
        ],
        **bulk,
    )
    EvidenceCitation.objects.bulk_create(
        [
            EvidenceCitation(evidence=e, citation=c, quote=sentence(rng, 6))
            for e in evidence
            for c in rng.sample(citations, rng.randint(1, 3))
        ],
        **bulk,
    )
    EvidenceTrial.objects.bulk_create(
        [EvidenceTrial(evidence=e, trial=rng.choice(trials)) for e in evidence[::2]],
        **bulk,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


# --- The floor: the same JSON from hand-written SQL -----------------------------


def fetch(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def placeholders(ids) -> str:
    return ", ".join(["%s"] * len(ids)) or "NULL"


def grouped(sql: str, ids: list) -> dict:
    """Rows of a related table by the id in their first column, in SQL order."""
    found = {}
    if ids:
        for row in fetch(sql.format(ids=placeholders(ids)), ids):
            found.setdefault(row[0], []).append(row[1:])
    return found


def stamp(value) -> str | None:
    """A timestamp as DRF writes it (ISO 8601, UTC as Z)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def day(value) -> str | None:
    return value if value is None or isinstance(value, str) else value.isoformat()


def flag(value) -> bool | None:
    return None if value is None else bool(value)


def decimal1(value) -> str | None:
    return None if value is None else f"{Decimal(str(value)):.1f}"


def uid(value) -> str:
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(value))


def page(url: str, count: int, results: list) -> bytes:
    base, _, query = url.partition("?")
    params = dict(p.split("=") for p in query.split("&")) if query else {}
    params["page"] = "2"
    following = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return orjson.dumps(
        {
            "count": count,
            "next": f"{HOST}{base}?{following}" if count > PAGE else None,
            "previous": None,
            "results": results,
        }
    )


def agent_summary(slug, name) -> dict:
    return {"slug": slug, "name": name, "url": f"{API}/agents/{slug}/"}


def target_summary(symbol, name) -> dict:
    return {"symbol": symbol, "name": name, "url": f"{API}/targets/{symbol}/"}


def mechanism_summary(slug, name) -> dict:
    return {"slug": slug, "name": name, "url": f"{API}/mechanisms/{slug}/"}


def citation_summary(citekey, title, year) -> dict:
    return {
        "citekey": citekey,
        "title": title,
        "year": year,
        "url": f"{API}/citations/{citekey}/",
    }


def trial_summary(nct_id, acronym, title) -> dict:
    return {
        "nct_id": nct_id,
        "acronym": acronym,
        "title": title,
        "url": f"{API}/trials/{nct_id}/",
    }


def agents_floor() -> bytes:
    url = f"/api/v1/agents/?page_size={PAGE}"
    [(count,)] = fetch("SELECT COUNT(*) FROM therapies_agent")
    rows = fetch(
        """SELECT a.id, a.slug, a.name, a.abbreviation, a.modality,
                  a.development_status, a.mechanism_of_action, a.chembl_id,
                  a.drugbank_id, a.ncit_id, a.payload, a.linker,
                  a.linker_cleavable, a.drug_to_antibody_ratio,
                  (SELECT COUNT(*) FROM therapies_evidenceagent ea
                     JOIN therapies_evidence e ON e.id = ea.evidence_id
                    WHERE ea.agent_id = a.id AND e.status = 'ACCEPTED'),
                  (SELECT COUNT(DISTINCT arm.trial_id)
                     FROM therapies_trialarmagent taa
                     JOIN therapies_trialarm arm ON arm.id = taa.arm_id
                    WHERE taa.agent_id = a.id),
                  a.created_at, a.updated_at
             FROM therapies_agent a ORDER BY a.name LIMIT %s""",
        [PAGE],
    )
    ids = [r[0] for r in rows]
    aliases = grouped(
        """SELECT agent_id, alias, kind FROM therapies_agentalias
            WHERE agent_id IN ({ids}) ORDER BY alias""",
        ids,
    )
    targets = grouped(
        """SELECT at.agent_id, t.symbol, t.name, at.action, at.binding_site,
                  at.reversibility
             FROM therapies_agenttarget at
             JOIN therapies_target t ON t.id = at.target_id
            WHERE at.agent_id IN ({ids}) ORDER BY t.symbol""",
        ids,
    )
    approvals = grouped(
        """SELECT ap.agent_id, ap.agency, ap.date, ap.indication,
                  ap.her2_positive_breast, ap.accelerated, ap.reference,
                  c.citekey, c.title, c.year
             FROM therapies_approval ap
             LEFT JOIN references_citation c ON c.id = ap.citation_id
            WHERE ap.agent_id IN ({ids})
            ORDER BY ap.date, ap.agency, ap.indication""",
        ids,
    )
    results = [
        {
            "url": f"{API}/agents/{r[1]}/",
            "slug": r[1],
            "name": r[2],
            "abbreviation": r[3],
            "aliases": [{"alias": a, "kind": k} for a, k in aliases.get(r[0], [])],
            "modality": r[4],
            "development_status": r[5],
            "mechanism_of_action": r[6],
            "targets": [
                {
                    "target": target_summary(t[0], t[1]),
                    "action": t[2],
                    "binding_site": t[3],
                    "reversibility": t[4],
                }
                for t in targets.get(r[0], [])
            ],
            "approvals": [
                {
                    "agency": p[0],
                    "date": day(p[1]),
                    "indication": p[2],
                    "her2_positive_breast": bool(p[3]),
                    "accelerated": bool(p[4]),
                    "reference": p[5],
                    "citation": citation_summary(*p[6:]) if p[6] else None,
                }
                for p in approvals.get(r[0], [])
            ],
            "chembl_id": r[7],
            "drugbank_id": r[8],
            "ncit_id": r[9],
            "payload": r[10],
            "linker": r[11],
            "linker_cleavable": flag(r[12]),
            "drug_to_antibody_ratio": decimal1(r[13]),
            "evidence_count": r[14],
            "trial_count": r[15],
            "created_at": stamp(r[16]),
            "updated_at": stamp(r[17]),
        }
        for r in rows
    ]
    return page(url, count, results)


def targets_floor() -> bytes:
    url = f"/api/v1/targets/?page_size={PAGE}"
    [(count,)] = fetch("SELECT COUNT(*) FROM therapies_target")
    rows = fetch(
        """SELECT id, symbol, name, aliases, hgnc_id, uniprot_id, created_at,
                  updated_at
             FROM therapies_target ORDER BY symbol LIMIT %s""",
        [PAGE],
    )
    ids = [r[0] for r in rows]
    agents = grouped(
        """SELECT at.target_id, a.slug, a.name FROM therapies_agenttarget at
             JOIN therapies_agent a ON a.id = at.agent_id
            WHERE at.target_id IN ({ids}) ORDER BY a.name""",
        ids,
    )
    mechanisms = grouped(
        """SELECT mg.target_id, m.slug, m.name FROM therapies_mechanismgene mg
             JOIN therapies_mechanism m ON m.id = mg.mechanism_id
            WHERE mg.target_id IN ({ids}) ORDER BY m.category, m.name""",
        ids,
    )
    results = [
        {
            "url": f"{API}/targets/{r[1]}/",
            "symbol": r[1],
            "name": r[2],
            "aliases": [a.strip() for a in r[3].split(",") if a.strip()],
            "hgnc_id": r[4],
            "uniprot_id": r[5],
            "agents": [agent_summary(*a) for a in agents.get(r[0], [])],
            "mechanisms": [mechanism_summary(*m) for m in mechanisms.get(r[0], [])],
            "created_at": stamp(r[6]),
            "updated_at": stamp(r[7]),
        }
        for r in rows
    ]
    return page(url, count, results)


def mechanisms_floor() -> bytes:
    url = f"/api/v1/mechanisms/?page_size={PAGE}"
    [(count,)] = fetch("SELECT COUNT(*) FROM therapies_mechanism")
    rows = fetch(
        """SELECT m.id, m.slug, m.name, m.category, p.slug, p.name,
                  m.description,
                  (SELECT COUNT(*) FROM therapies_evidence e
                    WHERE e.mechanism_id = m.id AND e.status = 'ACCEPTED'),
                  m.created_at, m.updated_at
             FROM therapies_mechanism m
             LEFT JOIN therapies_mechanism p ON p.id = m.parent_id
            ORDER BY m.category, m.name LIMIT %s""",
        [PAGE],
    )
    ids = [r[0] for r in rows]
    children = grouped(
        """SELECT parent_id, slug, name FROM therapies_mechanism
            WHERE parent_id IN ({ids}) ORDER BY category, name""",
        ids,
    )
    genes = grouped(
        """SELECT mg.mechanism_id, t.symbol, t.name FROM therapies_mechanismgene mg
             JOIN therapies_target t ON t.id = mg.target_id
            WHERE mg.mechanism_id IN ({ids}) ORDER BY t.symbol""",
        ids,
    )
    results = [
        {
            "url": f"{API}/mechanisms/{r[1]}/",
            "slug": r[1],
            "name": r[2],
            "category": r[3],
            "parent": mechanism_summary(r[4], r[5]) if r[4] else None,
            "children": [mechanism_summary(*c) for c in children.get(r[0], [])],
            "description": r[6],
            "genes": [target_summary(*g) for g in genes.get(r[0], [])],
            "evidence_count": r[7],
            "created_at": stamp(r[8]),
            "updated_at": stamp(r[9]),
        }
        for r in rows
    ]
    return page(url, count, results)


def trials_floor() -> bytes:
    url = f"/api/v1/trials/?page_size={PAGE}"
    [(count,)] = fetch("SELECT COUNT(*) FROM therapies_trial")
    rows = fetch(
        """SELECT t.id, t.nct_id, t.acronym, t.title, t.official_title, t.phase,
                  t.status, t.setting, t.enrollment, t.start_date,
                  t.completion_date, t.sponsor, t.conditions, t.primary_endpoint,
                  t.result_summary,
                  (SELECT COUNT(*) FROM therapies_evidencetrial et
                     JOIN therapies_evidence e ON e.id = et.evidence_id
                    WHERE et.trial_id = t.id AND e.status = 'ACCEPTED'),
                  t.created_at, t.updated_at
             FROM therapies_trial t ORDER BY t.nct_id LIMIT %s""",
        [PAGE],
    )
    ids = [r[0] for r in rows]
    arms = grouped(
        """SELECT trial_id, id, label, role, description FROM therapies_trialarm
            WHERE trial_id IN ({ids}) ORDER BY id""",
        ids,
    )
    arm_ids = [a[0] for found in arms.values() for a in found]
    arm_agents = grouped(
        """SELECT taa.arm_id, a.slug, a.name FROM therapies_trialarmagent taa
             JOIN therapies_agent a ON a.id = taa.agent_id
            WHERE taa.arm_id IN ({ids}) ORDER BY a.name""",
        arm_ids,
    )
    publications = grouped(
        """SELECT tp.trial_id, c.citekey, c.title, c.year
             FROM therapies_trialpublication tp
             JOIN references_citation c ON c.id = tp.citation_id
            WHERE tp.trial_id IN ({ids}) ORDER BY c.citekey""",
        ids,
    )
    results = [
        {
            "url": f"{API}/trials/{r[1]}/",
            "nct_id": r[1],
            "registry_url": f"https://clinicaltrials.gov/study/{r[1]}",
            "acronym": r[2],
            "title": r[3],
            "official_title": r[4],
            "phase": r[5],
            "status": r[6],
            "setting": r[7],
            "enrollment": r[8],
            "start_date": r[9],
            "completion_date": r[10],
            "sponsor": r[11],
            "conditions": r[12],
            "primary_endpoint": r[13],
            "result_summary": r[14],
            "arms": [
                {
                    "label": a[1],
                    "role": a[2],
                    "description": a[3],
                    "agents": [agent_summary(*g) for g in arm_agents.get(a[0], [])],
                }
                for a in arms.get(r[0], [])
            ],
            "publications": [citation_summary(*p) for p in publications.get(r[0], [])],
            "evidence_count": r[15],
            "created_at": stamp(r[16]),
            "updated_at": stamp(r[17]),
        }
        for r in rows
    ]
    return page(url, count, results)


def evidence_results(rows) -> list[dict]:
    ids = [r[0] for r in rows]
    agents = grouped(
        """SELECT ea.evidence_id, a.slug, a.name FROM therapies_evidenceagent ea
             JOIN therapies_agent a ON a.id = ea.agent_id
            WHERE ea.evidence_id IN ({ids}) ORDER BY a.name""",
        ids,
    )
    citations = grouped(
        """SELECT ec.evidence_id, c.citekey, c.title, c.year, ec.quote,
                  ec.location, ec.retraction_reviewed
             FROM therapies_evidencecitation ec
             JOIN references_citation c ON c.id = ec.citation_id
            WHERE ec.evidence_id IN ({ids}) ORDER BY c.citekey""",
        ids,
    )
    trials = grouped(
        """SELECT et.evidence_id, t.nct_id, t.acronym, t.title
             FROM therapies_evidencetrial et
             JOIN therapies_trial t ON t.id = et.trial_id
            WHERE et.evidence_id IN ({ids}) ORDER BY t.nct_id""",
        ids,
    )
    results = []
    for r in rows:
        key = uid(r[1])
        results.append(
            {
                "url": f"{API}/evidence/{key}/",
                "id": r[0],
                "uid": key,
                "agents": [agent_summary(*a) for a in agents.get(r[0], [])],
                "mechanism": mechanism_summary(r[2], r[3]),
                "effect": r[4],
                "direction": r[5],
                "level": r[6],
                "origin": r[7],
                "model_system": r[8],
                "statement": r[9],
                "citations": [
                    {
                        "citation": citation_summary(*c[:3]),
                        "quote": c[3],
                        "location": c[4],
                        "retraction_reviewed": bool(c[5]),
                    }
                    for c in citations.get(r[0], [])
                ],
                "trials": [trial_summary(*t) for t in trials.get(r[0], [])],
                "status": r[10],
                "status_reason": r[11],
                "submitted_at": stamp(r[12]),
                "reviewed_at": stamp(r[13]),
                "created_at": stamp(r[14]),
                "updated_at": stamp(r[15]),
            }
        )
    return results


EVIDENCE_COLUMNS = """e.id, e.uid, m.slug, m.name, e.effect, e.direction, e.level,
    e.origin, e.model_system, e.statement, e.status, e.status_reason,
    e.submitted_at, e.reviewed_at, e.created_at, e.updated_at"""


def evidence_floor() -> bytes:
    url = f"/api/v1/evidence/?page_size={PAGE}"
    [(count,)] = fetch(
        "SELECT COUNT(*) FROM therapies_evidence WHERE status = 'ACCEPTED'"
    )
    rows = fetch(
        f"""SELECT {EVIDENCE_COLUMNS}
              FROM therapies_evidence e
              JOIN therapies_mechanism m ON m.id = e.mechanism_id
             WHERE e.status = 'ACCEPTED' ORDER BY e.level, e.id LIMIT %s""",
        [PAGE],
    )
    return page(url, count, evidence_results(rows))


def citation_results(rows) -> list[dict]:
    ids = [r[0] for r in rows]
    authors = grouped(
        """SELECT ca.citation_id, au.family_name, au.given_name, au.is_collective,
                  au.orcid
             FROM references_citationauthor ca
             JOIN references_author au ON au.id = ca.author_id
            WHERE ca.citation_id IN ({ids}) ORDER BY ca.position""",
        ids,
    )
    return [
        {
            "url": f"{API}/citations/{r[1]}/",
            "citekey": r[1],
            "title": r[2],
            "authors": [
                {
                    "family_name": a[0],
                    "given_name": a[1],
                    "is_collective": bool(a[2]),
                    "orcid": a[3],
                }
                for a in authors.get(r[0], [])
            ],
            "journal": r[3],
            "year": r[4],
            "volume": r[5],
            "issue": r[6],
            "pages": r[7],
            "publication_type": r[8],
            "pmid": r[9],
            "doi": r[10],
            "pmcid": r[11],
            "pubmed_url": f"https://pubmed.ncbi.nlm.nih.gov/{r[9]}/" if r[9] else "",
            "doi_url": f"https://doi.org/{r[10]}" if r[10] else "",
            "pmc_url": (
                f"https://www.ncbi.nlm.nih.gov/pmc/articles/{r[11]}/" if r[11] else ""
            ),
            "source_url": r[12],
            "abstract": r[13],
            "retracted": bool(r[14]),
            "retraction_date": day(r[15]),
            "retraction_note": r[16],
            "created_at": stamp(r[17]),
            "updated_at": stamp(r[18]),
        }
        for r in rows
    ]


CITATION_COLUMNS = """c.id, c.citekey, c.title, c.journal, c.year, c.volume, c.issue,
    c.pages, c.publication_type, c.pmid, c.doi, c.pmcid, c.url, c.abstract,
    c.retracted, c.retraction_date, c.retraction_note, c.created_at, c.updated_at"""


def citations_floor() -> bytes:
    url = f"/api/v1/citations/?page_size={PAGE}"
    [(count,)] = fetch("SELECT COUNT(*) FROM references_citation")
    rows = fetch(
        f"""SELECT {CITATION_COLUMNS} FROM references_citation c
             ORDER BY c.citekey LIMIT %s""",
        [PAGE],
    )
    return page(url, count, citation_results(rows))


# Full text on PostgreSQL: the expressions of the GIN indexes.
EVIDENCE_VECTOR = (
    "setweight(to_tsvector('english'::regconfig, COALESCE(e.statement, '')), 'A')"
)
CITATION_VECTOR = (
    "setweight(to_tsvector('english'::regconfig, COALESCE(c.citekey, '') || ' ' || "
    "COALESCE(c.doi, '') || ' ' || COALESCE(c.pmid, '') || ' ' || "
    "COALESCE(c.pmcid, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, COALESCE(c.title, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, COALESCE(c.journal, '')), 'C')"
)
# Ranked on the identifiers and the title only, as the API does.
CITATION_RANK = (
    "setweight(to_tsvector('english'::regconfig, COALESCE(c.citekey, '') || ' ' || "
    "COALESCE(c.doi, '') || ' ' || COALESCE(c.pmid, '') || ' ' || "
    "COALESCE(c.pmcid, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, COALESCE(c.title, '')), 'B')"
)
AUTHOR_VECTOR = (
    "setweight(to_tsvector('english'::regconfig, COALESCE(au.family_name, '')), 'A')"
)
QUERY = (
    "(plainto_tsquery('english'::regconfig, %s) || "
    "to_tsquery('english'::regconfig, %s))"
)


def evidence_search_floor() -> bytes:
    url = f"/api/v1/evidence/?page_size={PAGE}&search={SEARCH_WORD}"
    if connection.vendor == "postgresql":
        words = [SEARCH_WORD, f"{SEARCH_WORD}:*"]
        where = f"e.status = 'ACCEPTED' AND {EVIDENCE_VECTOR} @@ {QUERY}"
        [(count,)] = fetch(
            f"SELECT COUNT(*) FROM therapies_evidence e WHERE {where}", words
        )
        rows = fetch(
            f"""SELECT {EVIDENCE_COLUMNS}
                  FROM therapies_evidence e
                  JOIN therapies_mechanism m ON m.id = e.mechanism_id
                 WHERE {where}
                 ORDER BY ts_rank({EVIDENCE_VECTOR}, {QUERY}) DESC, e.level, e.id
                 LIMIT %s""",
            [*words, *words, PAGE],
        )
    else:
        like = [f"%{SEARCH_WORD}%"]
        where = "e.status = 'ACCEPTED' AND e.statement LIKE %s ESCAPE '\\'"
        [(count,)] = fetch(
            f"SELECT COUNT(*) FROM therapies_evidence e WHERE {where}", like
        )
        rows = fetch(
            f"""SELECT {EVIDENCE_COLUMNS}
                  FROM therapies_evidence e
                  JOIN therapies_mechanism m ON m.id = e.mechanism_id
                 WHERE {where} ORDER BY e.level, e.id LIMIT %s""",
            [*like, PAGE],
        )
    return page(url, count, evidence_results(rows))


def citations_search_floor() -> bytes:
    url = f"/api/v1/citations/?page_size={PAGE}&search={SEARCH_WORD}"
    if connection.vendor == "postgresql":
        words = [SEARCH_WORD, f"{SEARCH_WORD}:*"]
        where = f"""c.id IN (
            SELECT c.id FROM references_citation c WHERE {CITATION_VECTOR} @@ {QUERY}
            UNION
            SELECT ca.citation_id FROM references_author au
              JOIN references_citationauthor ca ON ca.author_id = au.id
             WHERE {AUTHOR_VECTOR} @@ {QUERY})"""
        [(count,)] = fetch(
            f"SELECT COUNT(*) FROM references_citation c WHERE {where}", words * 2
        )
        rows = fetch(
            f"""SELECT {CITATION_COLUMNS} FROM references_citation c WHERE {where}
                 ORDER BY ts_rank({CITATION_RANK}, {QUERY}) DESC, c.citekey, c.id
                 LIMIT %s""",
            [*words, *words, *words, PAGE],
        )
    else:
        like = f"%{SEARCH_WORD}%"
        columns = ["citekey", "doi", "pmid", "pmcid", "title", "journal"]
        where = " OR ".join(f"c.{c} LIKE %s ESCAPE '\\'" for c in columns)
        where = f"""({where} OR EXISTS (
            SELECT 1 FROM references_author au
              JOIN references_citationauthor ca ON ca.author_id = au.id
             WHERE ca.citation_id = c.id AND au.family_name LIKE %s ESCAPE '\\'))"""
        params = [like] * (len(columns) + 1)
        [(count,)] = fetch(
            f"SELECT COUNT(*) FROM references_citation c WHERE {where}", params
        )
        rows = fetch(
            f"""SELECT {CITATION_COLUMNS} FROM references_citation c WHERE {where}
                 ORDER BY c.citekey LIMIT %s""",
            [*params, PAGE],
        )
    return page(url, count, citation_results(rows))


ENDPOINTS = [
    ("agents", f"/api/v1/agents/?page_size={PAGE}", agents_floor),
    ("targets", f"/api/v1/targets/?page_size={PAGE}", targets_floor),
    ("mechanisms", f"/api/v1/mechanisms/?page_size={PAGE}", mechanisms_floor),
    ("trials", f"/api/v1/trials/?page_size={PAGE}", trials_floor),
    ("evidence", f"/api/v1/evidence/?page_size={PAGE}", evidence_floor),
    ("citations", f"/api/v1/citations/?page_size={PAGE}", citations_floor),
    (
        "evidence ?search=",
        f"/api/v1/evidence/?page_size={PAGE}&search={SEARCH_WORD}",
        evidence_search_floor,
    ),
    (
        "citations ?search=",
        f"/api/v1/citations/?page_size={PAGE}&search={SEARCH_WORD}",
        citations_search_floor,
    ),
]
