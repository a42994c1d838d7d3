"""The resistance map: agents by mechanisms, each cell counting the claims
(evidence) about that agent and that mechanism, drawn as SVG on the server.

What a cell counts, for one agent and one mechanism (the mechanism itself, not
the mechanisms below it), among the claims the reader may see:

- resistance: claims that support "the mechanism confers resistance" or
  "... reduces sensitivity" (effect CONFERS_RESISTANCE or REDUCES_SENSITIVITY,
  direction SUPPORTS);
- overcomes: claims that support "the agent overcomes the mechanism (or
  restores sensitivity)" (effect OVERCOMES_RESISTANCE, direction SUPPORTS);
- other: the rest, which the cell's link lists too (no effect on sensitivity,
  or a claim the evidence does not support).

A cell's colour is the strongest level (A strongest ... E) among all its
claims. A combination claim counts under each of its agents. Rows and columns
without any claim are folded away (named below the map), so a map of hundreds
of agents and mechanisms shows only what has evidence.

Everything is computed from three queries, whatever the size: the counts
grouped by agent, mechanism, effect and direction; the agents; the mechanisms.
The public page (/map/), the admin's page, the SVG download and the JSON
(/api/v1/map/) all read `build_map` and take the same query parameters
(`MapForm`).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django import forms
from django.db.models import Count, Min
from django.utils.html import escape

from her2db.api.filters import ManyValuesWidget, StrictBooleanField

from .models import Agent, Evidence, EvidenceAgent, Mechanism

RESISTANCE = (Evidence.Effect.CONFERS_RESISTANCE, Evidence.Effect.REDUCES_SENSITIVITY)
OVERCOMES = (Evidence.Effect.OVERCOMES_RESISTANCE,)

# Fill and text colour by strongest level (a sequential blue scale, darkest =
# strongest; readable by the common forms of colour blindness).
LEVEL_COLOURS = {
    "A": ("#08306b", "#ffffff"),
    "B": ("#2171b5", "#ffffff"),
    "C": ("#6baed6", "#0b1a2b"),
    "D": ("#c6dbef", "#0b1a2b"),
    "E": ("#eef4fb", "#0b1a2b"),
}


class MapForm(forms.Form):
    """The map's query parameters, the same on every page that draws it.

    Each list takes `?x=a&x=b` or `?x=a,b`; an unknown value is an error
    (400), never silently ignored.
    """

    modality = forms.MultipleChoiceField(
        choices=Agent.Modality.choices,
        required=False,
        widget=ManyValuesWidget,
        help_text="Agents of any of these classes.",
    )
    category = forms.MultipleChoiceField(
        choices=Mechanism.Category.choices,
        required=False,
        widget=ManyValuesWidget,
        help_text="Mechanisms in any of these categories.",
    )
    level = forms.MultipleChoiceField(
        choices=Evidence.Level.choices,
        required=False,
        widget=ManyValuesWidget,
        help_text="Claims at any of these levels.",
    )
    unpublished = StrictBooleanField(
        required=False,
        help_text="Also count claims not (or no longer) accepted: drafts, "
        "claims in review, rejected and retired ones. Only for those who may "
        "see unpublished evidence.",
    )

    def clean(self):
        # A parameter given empty (`?category=`) is not a choice: an error,
        # as on the API's lists (her2db.api.filters.FilterSet).
        data = super().clean()
        for name in self.fields:
            given = self.data.getlist(name) if hasattr(self.data, "getlist") else []
            if any(not str(value).strip() for value in given):
                self.add_error(name, "Give a value, or leave the parameter out.")
        return data

    def query(self) -> dict[str, list[str]]:
        """The filters given, as query parameters for links (no empty ones)."""
        data = self.cleaned_data
        found = {name: data[name] for name in ("modality", "category", "level")}
        if data.get("unpublished"):
            found["unpublished"] = ["true"]
        return {name: values for name, values in found.items() if values}


@dataclass
class Cell:
    resistance: int = 0
    overcomes: int = 0
    other: int = 0
    level: str = "E"

    @property
    def claims(self) -> int:
        return self.resistance + self.overcomes + self.other

    def add(self, effect: str, direction: str, count: int, level: str) -> None:
        if direction == Evidence.Direction.SUPPORTS and effect in RESISTANCE:
            self.resistance += count
        elif direction == Evidence.Direction.SUPPORTS and effect in OVERCOMES:
            self.overcomes += count
        else:
            self.other += count
        self.level = min(self.level, level)


@dataclass
class Row:
    """A mechanism, with its depth in the tree (for indentation).

    A context row has no claims of its own: it names the parent of rows that
    have some (its category's root is the category's heading instead).
    """

    mechanism: Mechanism
    depth: int
    context: bool = False


@dataclass
class ResistanceMap:
    agents: list[Agent]  # columns shown, grouped by modality
    rows: list[Row]  # mechanisms shown, by category then tree order
    cells: dict[tuple[int, int], Cell]  # (agent id, mechanism id)
    folded_agents: list[Agent] = field(default_factory=list)
    folded_mechanisms: list[Mechanism] = field(default_factory=list)
    filters: dict[str, list[str]] = field(default_factory=dict)
    unpublished: bool = False

    @property
    def claims(self) -> int:
        """Cells summed: a combination claim counts once for each agent."""
        return sum(cell.claims for cell in self.cells.values())


def build_map(
    modality=(), category=(), level=(), unpublished: bool = False
) -> ResistanceMap:
    """The map of the claims anyone may read (accepted), or of every claim."""
    claims = Evidence.objects.all() if unpublished else Evidence.objects.accepted()
    if level:
        claims = claims.filter(level__in=level)
    if category:
        claims = claims.filter(mechanism__category__in=category)
    links = EvidenceAgent.objects.filter(evidence__in=claims.values("pk"))
    if modality:
        links = links.filter(agent__modality__in=modality)
    counted = (
        links.order_by()
        .values(
            "agent", "evidence__mechanism", "evidence__effect", "evidence__direction"
        )
        .annotate(n=Count("pk"), best=Min("evidence__level"))
        .values_list(
            "agent",
            "evidence__mechanism",
            "evidence__effect",
            "evidence__direction",
            "n",
            "best",
        )
    )
    cells: dict[tuple[int, int], Cell] = {}
    for agent, mechanism, effect, direction, count, best in counted:
        cells.setdefault((agent, mechanism), Cell()).add(effect, direction, count, best)

    agents = Agent.objects.only("slug", "name", "abbreviation", "modality")
    if modality:
        agents = agents.filter(modality__in=modality)
    mechanisms = Mechanism.objects.only("slug", "name", "category", "parent")
    if category:
        mechanisms = mechanisms.filter(category__in=category)
    used_agents = {a for a, _ in cells}
    used_mechanisms = {m for _, m in cells}
    agents = sorted(agents, key=_agent_order)
    rows = _tree_rows(list(mechanisms))
    parents = {r.mechanism.pk: r.mechanism.parent_id for r in rows if r.depth > 1}
    context = set()
    for pk in used_mechanisms:
        while parents.get(pk) is not None:
            pk = parents[pk]
            context.add(pk)
    for row in rows:
        row.context = row.mechanism.pk not in used_mechanisms
    return ResistanceMap(
        agents=[a for a in agents if a.pk in used_agents],
        rows=[r for r in rows if r.mechanism.pk in used_mechanisms | context],
        cells=cells,
        folded_agents=[a for a in agents if a.pk not in used_agents],
        folded_mechanisms=[
            r.mechanism for r in rows if r.mechanism.pk not in used_mechanisms
        ],
        unpublished=unpublished,
    )


def map_from(form: MapForm) -> ResistanceMap:
    data = form.cleaned_data
    found = build_map(
        modality=data["modality"],
        category=data["category"],
        level=data["level"],
        unpublished=bool(data.get("unpublished")),
    )
    found.filters = form.query()
    return found


_MODALITIES = list(Agent.Modality.values)
_CATEGORIES = list(Mechanism.Category.values)


def _agent_order(agent: Agent):
    return (_MODALITIES.index(agent.modality), agent.name.lower())


def _tree_rows(mechanisms: list[Mechanism]) -> list[Row]:
    """Mechanisms in the review's category order, each followed by its subtree."""
    children: dict[int | None, list[Mechanism]] = {}
    ids = {m.pk for m in mechanisms}
    for m in mechanisms:
        parent = m.parent_id if m.parent_id in ids else None
        children.setdefault(parent, []).append(m)
    rows: list[Row] = []

    def walk(parent, depth):
        for m in sorted(children.get(parent, []), key=lambda m: m.name.lower()):
            rows.append(Row(m, depth))
            walk(m.pk, depth + 1)

    for root in sorted(
        children.get(None, []),
        key=lambda m: (_CATEGORIES.index(m.category), m.name.lower()),
    ):
        rows.append(Row(root, 0))
        walk(root.pk, 1)
    # A parent cycle (which the models refuse) must not hide rows.
    reached = {row.mechanism.pk for row in rows}
    rows += [Row(m, 0) for m in mechanisms if m.pk not in reached]
    return rows


# Links: each cell to the list of its claims.


def api_claims_url(base: str, filters: dict) -> Callable[[Agent, Mechanism], str]:
    """A cell's claims in the public API's evidence list (base: that list's URL)."""
    fixed = [("level", v) for v in filters.get("level", ())]
    if not filters.get("unpublished"):
        fixed.append(("status", Evidence.Status.ACCEPTED))

    def url(agent, mechanism):
        query = [("agent", agent.slug), ("mechanism_exact", mechanism.slug), *fixed]
        return f"{base}?{urlencode(query)}"

    return url


def admin_claims_url(base: str, filters: dict) -> Callable[[Agent, Mechanism], str]:
    """A cell's claims in the admin's evidence list (base: the changelist's URL).

    By id lookups, which the admin accepts on any relation
    (`agents__id__exact`, `mechanism__id__exact`).
    """
    fixed = []
    if filters.get("level"):
        fixed.append(("level__in", ",".join(filters["level"])))
    if not filters.get("unpublished"):
        fixed.append(("status__exact", Evidence.Status.ACCEPTED))

    def url(agent, mechanism):
        query = [
            ("agents__id__exact", agent.pk),
            ("mechanism__id__exact", mechanism.pk),
            *fixed,
        ]
        return f"{base}?{urlencode(query)}"

    return url


# JSON


def as_json(found: ResistanceMap, claims_url, agent_url, mechanism_url) -> dict:
    """The map as the API serves it (see MapSerializer for the schema)."""
    shown = [row for row in found.rows if not row.context]
    mechanisms = {row.mechanism.pk: row.mechanism for row in shown}
    parents = {m.pk: m for m in [*mechanisms.values(), *found.folded_mechanisms]}
    agents = {a.pk: a for a in found.agents}
    return {
        "filters": {
            "modality": found.filters.get("modality", []),
            "category": found.filters.get("category", []),
            "level": found.filters.get("level", []),
            "unpublished": found.unpublished,
        },
        "agents": [
            {
                "slug": a.slug,
                "name": a.name,
                "abbreviation": a.abbreviation,
                "modality": a.modality,
                "url": agent_url(a),
            }
            for a in found.agents
        ],
        "mechanisms": [
            {
                "slug": row.mechanism.slug,
                "name": row.mechanism.name,
                "category": row.mechanism.category,
                "parent": (
                    parents[row.mechanism.parent_id].slug
                    if row.mechanism.parent_id in parents
                    else None
                ),
                "depth": row.depth,
                "url": mechanism_url(row.mechanism),
            }
            for row in shown
        ],
        "cells": [
            {
                "agent": agents[a].slug,
                "mechanism": mechanisms[m].slug,
                "resistance": cell.resistance,
                "overcomes": cell.overcomes,
                "other": cell.other,
                "claims": cell.claims,
                "strongest_level": cell.level,
                "evidence": claims_url(agents[a], mechanisms[m]),
            }
            for (a, m), cell in sorted(
                found.cells.items(),
                key=lambda item: (
                    _position(found.agents, item[0][0]),
                    _position([r.mechanism for r in shown], item[0][1]),
                ),
            )
        ],
        "folded_agents": [a.slug for a in found.folded_agents],
        "folded_mechanisms": [m.slug for m in found.folded_mechanisms],
    }


def _position(objects, pk) -> int:
    for i, obj in enumerate(objects):
        if obj.pk == pk:
            return i
    return len(objects)


# SVG

CELL_W, CELL_H = 46, 26
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
# Rough advance of one character at the label size, to size the margins
# without font metrics (generous: a label never runs into the grid).
CHAR_W = 6.6
INDENT = 12
HEADER_H = 22
# The legend fills the corner above the row labels and left of the columns.
LEGEND_W, LEGEND_H = 250, 150
LEAN = 0.71  # sin 45 degrees: column labels lean that way


def render_svg(found: ResistanceMap, claims_url, standalone: bool = False) -> str:
    """The map as one SVG element, or a whole SVG file when `standalone`.

    Styled with presentation attributes only (no <style>, no style="..."), so
    it draws the same inline in a page under a strict Content-Security-Policy
    and downloaded on its own.
    """
    if not found.cells:
        parts = [_text(10, 24, "No claims match these filters.", size=13)]
        return _wrap(parts, 420, 40, standalone)

    labels = [_agent_label(a) for a in found.agents]
    label_w = max(
        [len(r.mechanism.name) * CHAR_W + _indent(r) for r in found.rows]
        + [LEGEND_W - 16]
    )
    label_w += 16
    top = max(max(len(label) for label in labels) * CHAR_W * LEAN + 24, LEGEND_H)
    grid_w = CELL_W * len(found.agents)
    # Room on the right for the last label, which leans past the grid.
    width = label_w + grid_w + len(labels[-1]) * CHAR_W * LEAN + 10
    mechanism_rows = _rows_with_headers(found.rows)
    height = top + sum(HEADER_H if r is None else CELL_H for _, r in mechanism_rows)
    height += 8

    parts = _legend()
    # Column labels, and a separator between agent classes.
    previous = None
    for i, (agent, label) in enumerate(zip(found.agents, labels, strict=True)):
        x, y = label_w + i * CELL_W + CELL_W / 2, top - 8
        parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="12" fill="#1a1a1a" '
            f'transform="rotate(-45 {x:.1f} {y:.1f})">'
            f"<title>{escape(agent.get_modality_display())}</title>"
            f"{escape(label)}</text>"
        )
        if previous is not None and previous != agent.modality:
            x0 = label_w + i * CELL_W
            parts.append(_line(x0, top - 4, x0, height - 8, "#b4bdc7", 1))
        previous = agent.modality

    y = top
    for category, row in mechanism_rows:
        if row is None:
            parts.append(
                f'<rect x="0" y="{y:.1f}" width="{width:.1f}" height="{HEADER_H}" '
                'fill="#eef1f5"/>'
            )
            label = Mechanism.Category(category).label
            parts.append(_text(6, y + 15, label, size=12, bold=True))
            y += HEADER_H
            continue
        mechanism = row.mechanism
        x = 6 + _indent(row)
        if row.context:
            parts.append(
                _text(x, y + 17, mechanism.name, size=12, fill="#5a6b7c", italic=True)
            )
            y += CELL_H
            continue
        parts.append(_text(x, y + 17, mechanism.name, size=12))
        parts.append(
            _line(label_w, y + CELL_H, label_w + grid_w, y + CELL_H, "#e3e7ec", 1)
        )
        for i, agent in enumerate(found.agents):
            cell = found.cells.get((agent.pk, mechanism.pk))
            if cell is not None:
                parts.append(
                    _cell(label_w + i * CELL_W, y, cell, agent, mechanism, claims_url)
                )
        y += CELL_H
    return _wrap(parts, width, height, standalone)


def _agent_label(agent: Agent) -> str:
    return agent.name + (f" ({agent.abbreviation})" if agent.abbreviation else "")


def _indent(row: Row) -> int:
    # Roots are their category's heading: their children start at the margin.
    return max(row.depth - 1, 0) * INDENT


def _legend() -> list[str]:
    parts = [
        _text(6, 16, "How to read a cell", size=12, bold=True),
        _cell_shape(6, 24, Cell(resistance=2, overcomes=1, level="B")),
        _text(58, 35, "left: claims that it confers", size=11),
        _text(58, 48, "or reduces resistance", size=11),
        _text(58, 61, "right: that it is overcome", size=11),
        _text(6, 78, "+n: other claims (no effect, not supported)", size=11),
        _text(6, 100, "Colour: the strongest level", size=11),
    ]
    for i, (level, (fill, ink)) in enumerate(LEVEL_COLOURS.items()):
        x = 6 + i * 30
        parts.append(
            f'<rect x="{x}" y="106" width="26" height="18" rx="3" fill="{fill}" '
            'stroke="#4a5a6a" stroke-width="0.6"/>'
        )
        parts.append(
            _text(x + 13, 119, level, size=11, fill=ink, anchor="middle", bold=True)
        )
    parts.append(_text(6, 140, "A validated · B clinical · C case study", size=10))
    parts.append(_text(6, 152, "D preclinical · E inferential", size=10))
    return parts


def _rows_with_headers(rows: list[Row]):
    """(category, row) pairs, with (category, None) before each category's rows."""
    out, current = [], None
    for row in rows:
        if row.mechanism.category != current:
            current = row.mechanism.category
            out.append((current, None))
        out.append((current, row))
    return out


def _cell(x, y, cell: Cell, agent, mechanism, claims_url) -> str:
    title = (
        f"{agent.name} · {mechanism.name}: {cell.resistance} say it confers or "
        f"reduces resistance, {cell.overcomes} that it is overcome"
        + (f", {cell.other} other (no effect, or not supported)" if cell.other else "")
        + f"; strongest level {cell.level}. Open the {cell.claims} claim(s)."
    )
    href = escape(claims_url(agent, mechanism))
    shape = _cell_shape(x, y, cell)
    return f'<a href="{href}"><title>{escape(title)}</title>{shape}</a>'


def _cell_shape(x, y, cell: Cell) -> str:
    fill, ink = LEVEL_COLOURS[cell.level]
    parts = [
        f'<rect x="{x + 1}" y="{y + 1:.1f}" width="{CELL_W - 2}" '
        f'height="{CELL_H - 2}" rx="3" fill="{fill}" stroke="#4a5a6a" '
        'stroke-width="0.6"/>',
        _line(x + CELL_W / 2, y + 6, x + CELL_W / 2, y + CELL_H - 6, ink, 0.6),
        _count(x + CELL_W / 4, y, cell.resistance, ink),
        _count(x + 3 * CELL_W / 4, y, cell.overcomes, ink),
    ]
    if cell.other:
        parts.append(
            _text(
                x + CELL_W - 3, y + 9, f"+{cell.other}", size=8, fill=ink, anchor="end"
            )
        )
    return "".join(parts)


def _count(cx, y, value: int, ink: str) -> str:
    if not value:
        return _text(cx, y + 18, "·", size=13, fill=ink, anchor="middle")
    return _text(cx, y + 18, str(value), size=13, fill=ink, anchor="middle", bold=True)


def _text(
    x, y, text, size=12, fill="#1a1a1a", anchor="start", bold=False, italic=False
) -> str:
    weight = ' font-weight="bold"' if bold else ""
    weight += ' font-style="italic"' if italic else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" '
        f'text-anchor="{anchor}"{weight}>{escape(text)}</text>'
    )


def _line(x1, y1, x2, y2, stroke, width) -> str:
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
        f'stroke="{stroke}" stroke-width="{width}"/>'
    )


def _wrap(parts, width, height, standalone) -> str:
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'font-family="{FONT}" role="img" aria-labelledby="her2db-map-title">'
        '<title id="her2db-map-title">HER2db resistance map: agents by '
        "resistance mechanisms</title>"
        f'<rect width="100%" height="100%" fill="#ffffff"/>{"".join(parts)}</svg>'
    )
    if standalone:
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + svg + "\n"
    return svg
