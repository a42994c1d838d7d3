"""A deterministic synthetic data set for the API benchmark, at any size.

Every field the API shows takes more than one kind of value somewhere (empty
and filled, null and not, a retracted source reviewed or not), so that the
floor's JSON is checked against the API's on each of them.
"""

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction

from references.models import Author, Citation, CitationAuthor
from therapies import models

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
# How the words of a text are drawn (build(..., text=...)):
# - "uniform": every word of VOCABULARY equally likely, so each occurs in
#   nearly every citation's abstract (about 92% of rows match any one word):
#   the worst case for a ranked search, which must score every match.
# - "zipf": as words occur in real text, the n-th most common with frequency
#   proportional to 1/n (Zipf's law), over VOCABULARY and FILLER words. The
#   49 most common are filler (as the, of, and... are in English, and
#   dropped by search); VOCABULARY's words then take ranks 50 to about 680
#   in their order, so HER2 occurs in about one citation in five, MUC4 or
#   CD44 in one in fifteen, "breast" in one in sixty, and two of them
#   together more rarely still.
TEXTS = ("uniform", "zipf")
FILLER = [f"lexeme{n}" for n in range(20_000)]


def _zipf_words() -> tuple[list[str], list[float]]:
    """(words by rank, cumulative weights) for the "zipf" text."""
    ranks = {round(50 * 1.055**i): word for i, word in enumerate(WORDS)}
    filler = iter(FILLER)
    total = len(FILLER) + len(WORDS)
    ordered = [ranks.get(rank) or next(filler) for rank in range(1, total + 1)]
    weights, running = [], 0.0
    for rank in range(1, total + 1):
        running += 1 / rank
        weights.append(running)
    return ordered, weights


_TEXT = {"words": WORDS, "cumulative": None}
# Children before parents, so that a plain DELETE never breaks a foreign key.
MODELS = (
    models.OutcomeArmResult,
    models.Outcome,
    models.EvidenceTrial,
    models.EvidenceCitation,
    models.EvidenceAgent,
    models.Evidence,
    models.TrialArmAgent,
    models.TrialArm,
    models.TrialPublication,
    models.Trial,
    models.MechanismGene,
    models.Mechanism,
    models.Approval,
    models.AgentTarget,
    models.AgentAlias,
    models.Agent,
    models.Target,
    CitationAuthor,
    Author,
    Citation,
)


def scaled(scale: float) -> dict[str, int]:
    return {name: max(1, int(size * scale)) for name, size in SIZES.items()}


def sentence(rng: random.Random, words: int) -> str:
    drawn = rng.choices(_TEXT["words"], cum_weights=_TEXT["cumulative"], k=words)
    return " ".join(drawn).capitalize() + "."


def some(rng: random.Random, rows: list, low: int, high: int) -> list:
    """Between low and high distinct rows (fewer if there are not that many)."""
    return rng.sample(rows, min(len(rows), rng.randint(low, high)))


@transaction.atomic
def build(sizes: dict[str, int], text: str = "uniform") -> None:
    """Replace the rows of every model the API lists with a synthetic set,
    its texts drawn as `text` says (TEXTS)."""
    if text not in TEXTS:
        raise ValueError(f"text: one of {', '.join(TEXTS)}, not {text!r}.")
    words, cumulative = _zipf_words() if text == "zipf" else (WORDS, None)
    _TEXT.update(words=words, cumulative=cumulative)
    for model in MODELS:
        model._base_manager.all()._raw_delete(model._base_manager.db)
    rng = random.Random(20250401)
    citations = make_citations(rng, sizes)
    targets, agents = make_agents(rng, sizes, citations)
    mechanisms = make_mechanisms(rng, sizes, targets)
    trials, arms = make_trials(rng, sizes, agents, citations)
    make_outcomes(rng, trials, arms, citations)
    make_evidence(rng, sizes, agents, mechanisms, citations, trials)


def build_indexed(sizes: dict[str, int], text: str = "uniform") -> None:
    """build(), its search documents written once at the end rather than by
    the triggers after every statement (which rewrite an evidence item's
    document again for each row linked to it: more than 16 minutes, and not
    done, at 200,000 items on PostgreSQL), the triggers then put back;
    statistics gathered."""
    from her2db.search_index import drop_search_triggers, sync_search_indexes

    postgresql = connection.vendor == "postgresql"
    drop_search_triggers(plan=True)
    build(sizes, text=text)
    if postgresql:
        # Statistics of the rows just written, before the documents are:
        # with those of an earlier, emptied data set the planner reads each
        # citation's authors by a scan of every link (13 minutes on that one
        # statement at 100,000 citations, and not done).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    sync_search_indexes(force=True)
    if postgresql:
        # VACUUM (the visibility map that index-only scans read) cannot run
        # inside a transaction, as in the tests.
        vacuum = "" if connection.in_atomic_block else "VACUUM "
        with connection.cursor() as cursor:
            cursor.execute(f"{vacuum}ANALYZE")


def bulk(model, rows: list) -> list:
    return model.objects.bulk_create(rows, batch_size=2000)


def make_citations(rng, sizes) -> list[Citation]:
    citations = bulk(
        Citation,
        [
            Citation(
                citekey=f"Author{i}{1990 + i % 35}",
                title=sentence(rng, 14),
                journal=rng.choice(["J Clin Oncol", "N Engl J Med", "Cancer Res"]),
                year=1990 + i % 35,
                volume=str(rng.randint(1, 400)),
                issue=str(rng.randint(1, 24)),
                pages=f"{rng.randint(1, 900)}-{rng.randint(901, 999)}",
                pmid=str(10_000_000 + i) if i % 9 else "",
                doi=f"10.1000/bench.{i}" if i % 11 else "",
                pmcid=f"PMC{1_000_000 + i}" if i % 4 == 1 else "",
                url="" if i % 9 else f"https://example.org/source/{i}",
                abstract=" ".join(sentence(rng, 18) for _ in range(6)),
                retracted=i % 7 == 3,
                retraction_date=date(2021, 1, 1 + i % 28) if i % 7 == 3 else None,
                retraction_note="Data could not be reproduced." if i % 7 == 3 else "",
            )
            for i in range(sizes["citations"])
        ],
    )
    authors = bulk(
        Author,
        [
            Author(
                family_name=f"Family{i}",
                given_name=rng.choice(["A", "BC", "D"]),
                is_collective=i % 13 == 0,
                orcid=f"0000-0002-{i // 10_000:04d}-{i % 10_000:04d}"
                if i % 5 == 0
                else "",
            )
            for i in range(sizes["authors"])
        ],
    )
    bulk(
        CitationAuthor,
        [
            CitationAuthor(citation=c, author=a, position=p)
            for c in citations
            for p, a in enumerate(some(rng, authors, 1, 8), 1)
        ],
    )
    return citations


def make_agents(
    rng, sizes, citations
) -> tuple[list[models.Target], list[models.Agent]]:
    targets = bulk(
        models.Target,
        [
            models.Target(
                symbol=f"GENE{i}",
                name=f"gene number {i}",
                aliases=f"G{i}, ALT{i}" if i % 3 else "",
                hgnc_id=f"HGNC:{i + 1}",
            )
            for i in range(sizes["targets"])
        ],
    )
    modalities = [m for m, _ in models.Agent.Modality.choices]
    agents = bulk(
        models.Agent,
        [
            models.Agent(
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
                linker_cleavable=(i % 20 == 0) if i % 10 == 0 else None,
            )
            for i in range(sizes["agents"])
        ],
    )
    bulk(
        models.AgentAlias,
        [
            models.AgentAlias(agent=a, alias=f"{a.slug}-{kind.lower()}", kind=kind)
            for a in agents
            for kind in some(rng, ["BRAND", "CODE", "SYNONYM"], 1, 2)
        ],
    )
    bulk(
        models.AgentTarget,
        [
            models.AgentTarget(
                agent=a,
                target=t,
                action=rng.choice(["INHIBITOR", "BINDER"]),
                binding_site=rng.choice(["", "extracellular domain II"]),
            )
            for a in agents
            for t in some(rng, targets, 1, 3)
        ],
    )
    bulk(
        models.Approval,
        [
            models.Approval(
                agent=a,
                agency=agency,
                date=date(2000, 1, 1) + timedelta(days=rng.randint(0, 8000)),
                indication=sentence(rng, 8),
                her2_positive_breast=rng.random() < 0.5,
                accelerated=rng.random() < 0.2,
                reference=rng.choice(["", "BLA 125427"]),
                citation=rng.choice(citations) if rng.random() < 0.5 else None,
            )
            for a in agents
            for agency in some(rng, ["FDA", "EMA", "PMDA"], 0, 2)
        ],
    )
    return targets, agents


def make_mechanisms(rng, sizes, targets) -> list[models.Mechanism]:
    categories = [c for c, _ in models.Mechanism.Category.choices]
    mechanisms = []
    for i in range(sizes["mechanisms"]):
        parent = None if i < len(categories) else rng.choice(mechanisms)
        mechanism = models.Mechanism(
            slug=f"mechanism-{i:03d}",
            name=f"Mechanism {i:03d}",
            category=parent.category if parent else categories[i],
            parent=parent,
            description=sentence(rng, 30),
        )
        mechanism.save()  # one at a time: children need their parent's id
        mechanisms.append(mechanism)
    bulk(
        models.MechanismGene,
        [
            models.MechanismGene(mechanism=m, target=t)
            for m in mechanisms
            for t in some(rng, targets, 0, 3)
        ],
    )
    return mechanisms


def make_trials(rng, sizes, agents, citations) -> list[models.Trial]:
    phases = [p for p, _ in models.Trial.Phase.choices]
    statuses = [s for s, _ in models.Trial.Status.choices]
    trials = bulk(
        models.Trial,
        [
            models.Trial(
                nct_id=f"NCT{10_000_000 + i:08d}",
                acronym=f"TRIAL-{i}",
                title=sentence(rng, 12),
                phase=rng.choice(phases),
                status=rng.choice(statuses),
                setting=rng.choice(["ADJUVANT", "METASTATIC", "NEOADJUVANT"]),
                enrollment=rng.randint(20, 4000) if i % 6 else None,
                population=("HER2_POSITIVE_BREAST", "HER2_LOW_BREAST", "")[i % 3],
                start_date=f"{rng.randint(2000, 2024)}-0{rng.randint(1, 9)}",
                start_date_type="ACTUAL",
                sponsor="Bench Sponsor",
                primary_endpoint=sentence(rng, 10),
                result_summary=sentence(rng, 25),
            )
            for i in range(sizes["trials"])
        ],
    )
    arms = bulk(
        models.TrialArm,
        [
            models.TrialArm(trial=t, label=f"Arm {n}", description=sentence(rng, 8))
            for t in trials
            for n in range(1, rng.randint(2, 4))
        ],
    )
    bulk(
        models.TrialArmAgent,
        [
            models.TrialArmAgent(arm=arm, agent=a)
            for arm in arms
            for a in some(rng, agents, 1, 2)
        ],
    )
    bulk(
        models.TrialPublication,
        [
            models.TrialPublication(trial=t, citation=c)
            for t in trials
            for c in some(rng, citations, 0, 3)
        ],
    )
    return trials, arms


def make_outcomes(rng, trials, arms, citations) -> None:
    """Results for half the trials: a comparison, and each arm's value."""
    arms_of = {}
    for arm in arms:
        arms_of.setdefault(arm.trial_id, []).append(arm)
    outcomes = bulk(
        models.Outcome,
        [
            models.Outcome(
                uid=uuid.UUID(int=rng.getrandbits(128), version=4),
                trial=trial,
                endpoint=endpoint,
                population=rng.choice(["ITT", "HR-positive"]),
                analysis=rng.choice(["PRIMARY", "INTERIM", "FINAL"]),
                data_cutoff=date(2020, 1, 1) + timedelta(days=rng.randint(0, 1500))
                if rng.random() < 0.7
                else None,
                measure="HR" if compared else "",
                estimate=Decimal("0.6400") if compared else None,
                ci_lower=Decimal("0.5100") if compared else None,
                ci_upper=Decimal("0.7900") if compared else None,
                p_value=Decimal("0.0010") if compared else None,
                p_qualifier=rng.choice(["<", "="]),
                crossed_boundary=rng.choice([True, False, None]),
                citation=rng.choice(citations) if rng.random() < 0.8 else None,
                locator=rng.choice(["", "Table 2", "Abstract (Results)"]),
                notes=sentence(rng, 8) if rng.random() < 0.3 else "",
            )
            for trial in trials[::2]
            for endpoint, compared in (("PFS", True), ("OS", False))
        ],
    )
    bulk(
        models.OutcomeArmResult,
        [
            models.OutcomeArmResult(
                outcome=outcome,
                arm=arm,
                unit="MEDIAN_MONTHS",
                value=Decimal(rng.randint(50, 400)) / 10 if n else None,
                ci_lower=Decimal("4.000") if n else None,
                ci_upper=Decimal("41.000") if n else None,
                not_reached=not n,
                events=rng.randint(10, 200) if n else None,
                patients=rng.randint(200, 400) if n else None,
            )
            for outcome in outcomes
            for n, arm in enumerate(arms_of[outcome.trial_id])
        ],
    )


def make_evidence(rng, sizes, agents, mechanisms, citations, trials) -> None:
    now = datetime.now(UTC)
    evidence = bulk(
        models.Evidence,
        [
            models.Evidence(
                uid=uuid.UUID(int=rng.getrandbits(128), version=4),
                mechanism=rng.choice(mechanisms),
                effect=rng.choice(["CONFERS_RESISTANCE", "REDUCES_SENSITIVITY"]),
                level=rng.choice("ABCDE"),
                model_system=rng.choice(["PATIENTS", "CELL_LINE", "PDX"]),
                statement=sentence(rng, 20),
                status="ACCEPTED" if rng.random() < 0.85 else "DRAFT",
                reviewed_at=now if rng.random() < 0.9 else None,
            )
            for _ in range(sizes["evidence"])
        ],
    )
    bulk(
        models.EvidenceAgent,
        [
            models.EvidenceAgent(evidence=e, agent=a)
            for e in evidence
            for a in some(rng, agents, 1, 2)
        ],
    )
    bulk(
        models.EvidenceCitation,
        [
            models.EvidenceCitation(
                evidence=e,
                citation=c,
                quote=sentence(rng, 6),
                location=rng.choice(["", "Fig. 2"]),
                retraction_reviewed=rng.random() < 0.3,
            )
            for e in evidence
            for c in some(rng, citations, 1, 3)
        ],
    )
    bulk(
        models.EvidenceTrial,
        [
            models.EvidenceTrial(evidence=e, trial=rng.choice(trials))
            for e in evidence[::2]
        ],
    )
