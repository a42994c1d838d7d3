"""ClinicalTrials.gov API v2 study JSON into trials.

A file holds one study (GET /api/v2/studies/NCT...) or a page of them
(GET /api/v2/studies, with "studies"). Registry values replace what HER2db
holds, except that a value the record leaves out never erases one a curator
entered. Arms are matched by label and created or updated; arms and agents
the registry does not list are kept, and reported. A study that lists no arm
groups gets arms made from its interventions (arms_from_interventions).
Interventions become agents only when they match an agent's name, slug,
abbreviation or alias (case-insensitively); the others are reported, never
invented.
"""

import re
from pathlib import Path

import orjson
from django.core.exceptions import ValidationError
from django.utils.text import slugify

from references.importers.base import (
    CREATED,
    SKIPPED,
    UNCHANGED,
    UPDATED,
    ImportContext,
    Importer,
    ImportFailed,
    RecordError,
    describe_error,
)
from references.importers.writer import NCT_RE
from references.models import Citation
from therapies.models import Agent, AgentAlias, Trial, TrialArm
from therapies.rules import stored_trial_problems

BRACKETS = re.compile(r"[\[(]([^\])]*)[\])]")
ARM_ROLES = {choice.value for choice in TrialArm.Role}
STUDIES_URL = "https://clinicaltrials.gov/api/v2/studies/"


def load_studies(path: Path) -> list[dict]:
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as error:
        raise RecordError(
            f"not JSON ({error}); expected ClinicalTrials.gov API v2 study JSON.",
            source=str(path),
        ) from None
    if isinstance(data, dict) and isinstance(data.get("studies"), list):
        return data["studies"]
    if isinstance(data, dict) and "protocolSection" in data:
        return [data]
    raise RecordError(
        "not ClinicalTrials.gov API v2 study JSON (neither a study with "
        '"protocolSection" nor a page with "studies").',
        source=str(path),
    )


def get(data: dict, *keys, default=None):
    for key in keys:
        if not isinstance(data, dict):
            return default
        data = data.get(key)
        if data is None:
            return default
    return data


def registry_date(protocol: dict, field: str, struct: str, status: str, where, notes):
    """{field: the date, field_type: ACTUAL or ESTIMATED} of a registry date
    (`statusModule.<struct>`), both empty when the record gives none.

    A date the record does not mark is actual where the status settles it
    (a trial under way has started; one ended has completed); otherwise it
    is not taken (the trial keeps what it holds) and the report names it:
    an estimate must not pass for a date.
    """
    found = get(protocol, "statusModule", struct, default={})
    date, kind = found.get("date") or "", found.get("type") or ""
    if not date:
        return {field: "", f"{field}_type": ""}
    if kind and kind not in Trial.DateType.values:
        raise RecordError(
            f"{struct}.type {kind!r}: ACTUAL or ESTIMATED expected.", record=where
        )
    if not kind:
        settled = Trial.FINISHED if field == "completion_date" else Trial.STARTED
        if status not in settled:
            notes.append(f"{struct} {date} not marked actual or estimated: not taken")
            return {}
        kind = Trial.DateType.ACTUAL
    return {field: date, f"{field}_type": kind}


def phase(phases: list[str], where: str) -> str:
    if not phases:
        return ""
    code = "_".join(phases)
    if code not in Trial.Phase.values:
        raise RecordError(f"unknown phases {phases!r}.", record=where)
    return code


class AgentIndex:
    """Agents by lower-cased name, slug, abbreviation and alias."""

    def __init__(self):
        self.by_name: dict[str, Agent] = {}
        for agent in Agent.objects.all():
            for name in (agent.name, agent.slug, agent.abbreviation):
                if name:
                    self.by_name.setdefault(name.lower(), agent)
        for alias in AgentAlias.objects.select_related("agent"):
            self.by_name.setdefault(alias.alias.lower(), alias.agent)

    def match(self, names: list[str]) -> Agent | None:
        for name in names:
            variants = [name, BRACKETS.sub("", name), *BRACKETS.findall(name)]
            for variant in variants:
                variant = " ".join(variant.split()).lower()
                agent = self.by_name.get(variant) or self.by_name.get(slugify(variant))
                if agent:
                    return agent
        return None


# Intervention names that stand for no drug: their arm is a placebo arm.
PLACEBO = re.compile(r"\b(placebo|sham)\b", re.IGNORECASE)


def arms_from_interventions(protocol, interventions, agents) -> list[dict]:
    """Arm groups for a study that lists none (a registry file cut to a few
    fields, or an old record): the study's single group when its design says
    it has one, else one arm for each intervention giving an agent HER2db
    knows, and a placebo arm for a placebo. Interventions matching no agent
    get no arm of their own; sync_arms names them in the report."""
    names = [i.get("name", "") for i in interventions if i.get("name")]
    model = get(protocol, "designModule", "designInfo", "interventionModel")
    if model == "SINGLE_GROUP" or len(names) == 1:
        return [
            {
                "label": " + ".join(names)[:200] or "Study treatment",
                "type": TrialArm.Role.EXPERIMENTAL,
                "interventionNames": names,
            }
        ]
    groups = []
    for intervention in interventions:
        name = intervention.get("name", "")
        kind = (intervention.get("type") or "other").replace("_", " ").capitalize()
        if PLACEBO.search(name):
            role = TrialArm.Role.PLACEBO_COMPARATOR
        elif agents.match([name, *(intervention.get("otherNames") or [])]):
            role = TrialArm.Role.OTHER
        else:
            continue
        groups.append(
            {
                "label": f"{kind}: {name}"[:200],
                "type": role,
                "interventionNames": [name],
            }
        )
    return groups


class CtgovImporter(Importer):
    """ClinicalTrials.gov studies: trials, their arms, agents and papers."""

    name = "ctgov"
    command = "import_ctgov"
    description = "ClinicalTrials.gov API v2 study JSON (.json)"
    permissions = ("references.add_citation", "therapies.add_trial")
    fetch_id = "NCT_ID"

    def fetch_urls(self, ids: list[str]) -> list[tuple[str, str]]:
        """One study a file, from the registry's API v2."""
        nct_ids = [i.strip().upper() for i in ids]
        bad = [i for i in nct_ids if not NCT_RE.match(i)]
        if bad:
            raise ImportFailed(f"Not an NCT id: {', '.join(bad)} (NCT and 8 digits).")
        return [
            (f"{nct_id}.json", f"{STUDIES_URL}{nct_id}")
            for nct_id in dict.fromkeys(nct_ids)
        ]

    def import_file(self, path: Path, ctx: ImportContext) -> None:
        studies = load_studies(path)
        agents = AgentIndex()
        for number, study in enumerate(ctx.progress(studies, desc=path.name), 1):
            nct_id = get(study, "protocolSection", "identificationModule", "nctId")
            where = f"study {number}" + (f" ({nct_id})" if nct_id else "")
            try:
                self.import_study(study, where, ctx, agents)
            except RecordError as error:
                raise RecordError(
                    error.message, source=str(path), record=error.record or where
                ) from None

    def import_study(self, study, where, ctx: ImportContext, agents: AgentIndex):
        if not isinstance(study, dict) or "protocolSection" not in study:
            raise RecordError("no protocolSection.", record=where)
        protocol = study["protocolSection"]
        nct_id = get(protocol, "identificationModule", "nctId", default="")
        if not nct_id:
            raise RecordError("no nctId.", record=where)
        label = nct_id
        if nct_id in ctx.seen:
            ctx.summary.add(
                SKIPPED, label, reason=f"{nct_id} appears earlier in this import"
            )
            return
        ctx.seen[nct_id] = where
        ident = protocol.get("identificationModule", {})
        title = ident.get("briefTitle") or ident.get("officialTitle") or ""
        if not title:
            raise RecordError("no briefTitle.", record=where)
        status = get(protocol, "statusModule", "overallStatus", default="")
        if status and status not in Trial.Status.values:
            raise RecordError(f"unknown overallStatus {status!r}.", record=where)
        conditions = "; ".join(get(protocol, "conditionsModule", "conditions") or [])
        notes = []
        if len(title) > 500:
            notes.append("brief title shortened to 500 characters")
        if len(conditions) > 500:
            conditions = conditions[:499] + "…"
            notes.append("conditions shortened to 500 characters")
        values = {
            "acronym": ident.get("acronym", ""),
            "title": title[:500],
            "official_title": ident.get("officialTitle", ""),
            "phase": phase(get(protocol, "designModule", "phases") or [], where),
            "status": status,
            "enrollment": get(protocol, "designModule", "enrollmentInfo", "count"),
            **registry_date(
                protocol, "start_date", "startDateStruct", status, where, notes
            ),
            **registry_date(
                protocol,
                "completion_date",
                "completionDateStruct",
                status,
                where,
                notes,
            ),
            "sponsor": get(
                protocol, "sponsorCollaboratorsModule", "leadSponsor", "name"
            )
            or "",
            "conditions": conditions,
        }
        trial = Trial.objects.filter(nct_id=nct_id).first() or Trial(nct_id=nct_id)
        try:
            status_, changes = ctx.sync(trial, values)
        except ValidationError as error:
            raise RecordError(describe_error(error), record=where) from None
        arms_changed = self.sync_arms(trial, protocol, where, ctx, agents, notes)
        self.check_rules(trial, where, notes)
        refs_changed = self.link_references(trial, protocol, ctx, notes)
        changes += arms_changed + refs_changed
        if status_ == UNCHANGED and changes:
            status_ = UPDATED
        ctx.summary.add(
            status_, label, changes if status_ != CREATED else (), notes=notes
        )

    def sync_arms(self, trial, protocol, where, ctx, agents, notes) -> list[str]:
        module = protocol.get("armsInterventionsModule") or {}
        interventions = module.get("interventions") or []
        by_name = {}
        by_arm: dict[str, list[dict]] = {}
        for intervention in interventions:
            name = intervention.get("name", "")
            by_name[name.lower()] = intervention
            for arm_label in intervention.get("armGroupLabels") or []:
                by_arm.setdefault(arm_label, []).append(intervention)
        existing = {arm.label: arm for arm in trial.arms.prefetch_related("agents")}
        changes, unmatched = [], []
        groups = module.get("armGroups") or []
        if not groups and interventions:
            if existing:
                # A curated trial keeps its arms; made-up ones would only blur them.
                notes.append(
                    "the study lists no arm groups; the trial's arms are kept as "
                    "they are"
                )
            else:
                groups = arms_from_interventions(protocol, interventions, agents)
                given = {n for g in groups for n in g["interventionNames"]}
                unmatched += [
                    i["name"] for i in interventions if i.get("name") not in given
                ]
                notes.append(
                    "the study lists no arm groups; arms made from its "
                    "interventions: " + ", ".join(repr(g["label"]) for g in groups)
                )
        for group in groups:
            label = (group.get("label") or "").strip()
            if not label:
                raise RecordError("an arm group has no label.", record=where)
            role = group.get("type") or TrialArm.Role.OTHER
            arm = existing.pop(label, None) or TrialArm(trial=trial, label=label)
            values = {
                "role": role if role in ARM_ROLES else TrialArm.Role.OTHER,
                "description": group.get("description", ""),
            }
            try:
                status, fields = ctx.sync(arm, values)
            except ValidationError as error:
                raise RecordError(
                    f"arm {label!r}: {describe_error(error)}", record=where
                ) from None
            if status == CREATED:
                changes.append(f"arm {label!r} added")
            elif status == UPDATED:
                changes.append(f"arm {label!r}: {', '.join(fields)}")
            arm_interventions = list(by_arm.get(label, []))
            for name in group.get("interventionNames") or []:
                bare = name.split(": ", 1)[-1]
                intervention = by_name.get(bare.lower(), {"name": bare})
                if intervention not in arm_interventions:
                    arm_interventions.append(intervention)
            matched = []
            for intervention in arm_interventions:
                names = [intervention["name"], *(intervention.get("otherNames") or [])]
                agent = agents.match(names)
                if agent is None:
                    if intervention["name"] not in unmatched:
                        unmatched.append(intervention["name"])
                elif agent not in matched:
                    matched.append(agent)
            present = set(arm.agents.all()) if status != CREATED else set()
            missing = [agent for agent in matched if agent not in present]
            if missing:
                ctx.stamp(arm).agents.add(*missing)
                changes.append(
                    f"arm {label!r} gives {', '.join(a.name for a in missing)}"
                )
        if unmatched:
            notes.append(
                "interventions matching no agent (add an alias to link them): "
                + ", ".join(unmatched)
            )
        if existing:
            notes.append(
                "arms not in the registry record, kept: " + ", ".join(sorted(existing))
            )
        return changes

    @staticmethod
    def check_rules(trial, where, notes) -> None:
        """Refuse a study that would leave a trial check_data reports."""
        problems = stored_trial_problems(trial).get("arms", {})
        if not problems:
            return
        arms = list(trial.arms.all())
        if not arms:
            message = (
                "the study lists no arm groups and none of its interventions is "
                "an agent HER2db knows; a trial needs at least one arm."
            )
        else:
            labels = ", ".join(repr(arms[index].label) for index in problems)
            message = (
                f"arm {labels} would give no agent HER2db knows; add the agents "
                "(or an alias) first, or mark the arm as physician's choice."
            )
        if notes:
            message += " " + "; ".join(notes) + "."
        raise RecordError(message, record=where)

    def link_references(self, trial, protocol, ctx, notes) -> list[str]:
        references = get(protocol, "referencesModule", "references") or []
        pmids = [str(r["pmid"]) for r in references if r.get("pmid")]
        if not pmids:
            return []
        citations = {c.pmid: c for c in Citation.objects.filter(pmid__in=pmids)}
        linked = set(trial.publications.values_list("pk", flat=True))
        changes, absent = [], []
        for pmid in pmids:
            citation = citations.get(pmid)
            if citation is None:
                absent.append(pmid)
            elif citation.pk not in linked:
                ctx.stamp(trial).publications.add(citation)
                linked.add(citation.pk)
                changes.append(f"publication {citation.citekey}")
        if absent:
            notes.append(
                "references not in HER2db, not linked (import them with "
                "import_pubmed): PMID " + ", ".join(absent)
            )
        return changes
