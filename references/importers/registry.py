"""The importers by name ("pubmed", "citations", "ctgov").

Each app registers its own from its AppConfig.ready(), so references needs
no import of therapies; the admin's upload page and the import commands
find them here.
"""

from .base import Importer

_IMPORTERS: dict[str, type[Importer]] = {}


def register(*importers: type[Importer]) -> None:
    for importer in importers:
        _IMPORTERS[importer.name] = importer


def get(name: str) -> Importer:
    """A new importer of the kind ``name``; LookupError if none has it."""
    try:
        return _IMPORTERS[name]()
    except KeyError:
        raise LookupError(f"No importer named {name!r}.") from None


def all_importers() -> list[Importer]:
    """One of each kind, in the order they were registered."""
    return [importer() for importer in _IMPORTERS.values()]
