"""People's names as citation styles need them: initials with full stops.

PubMed writes initials run together ("SM"), and a style given "SM" as a
given name prints one initial ("Swain S"): it cannot tell initials from a
name. HER2db stores initials as "S. M." (or the full given name where the
source gives one), which every style shortens or prints correctly.
"""

import re

# Given names that are nothing but initials written without full stops:
# "SM", "S M", "H", "J-P" (PubMed's Initials, and the older curated data).
BARE_INITIALS = re.compile(r"^[A-Z](?:[ -]?[A-Z]){0,4}$")
LETTER = re.compile(r"[A-Z]")


def dotted_initials(given: str) -> str:
    """ "EJ" -> "E. J.", "J-P" -> "J.-P.", "H" -> "H."; anything else unchanged."""
    given = given.strip()
    if not BARE_INITIALS.match(given):
        return given
    out = ""
    for char in given.replace(" ", ""):
        if char == "-":
            out = out.rstrip() + "-"
        else:
            out += char + ". "
    return out.strip()


def needs_stops(given: str) -> bool:
    """Is this given name initials run together, or without their full stops?"""
    return bool(BARE_INITIALS.match(given.strip()))


def initials_of(given: str) -> str:
    """The initials a given name stands for: "S. M." and "Sandra M." -> "SM".

    Empty for no given name ("", or "-" as some sources write none).
    """
    words = re.split(r"[\s.\-]+", given.strip())
    if len(words) == 1 and needs_stops(words[0]):
        return words[0]  # "SM": each letter is an initial
    return "".join(word[0].upper() for word in words if word and word[0].isalpha())


def only_initials(given: str) -> bool:
    """ "S. M.", "SM", "J.-P." or none at all: no given name written out."""
    return all(len(word) == 1 for word in re.split(r"[\s.\-]+", given) if word) or (
        needs_stops(given)
    )


def compatible(first: str, second: str) -> bool:
    """Could these be one person's given names? One's initials begin the
    other's, and one of them is initials only ("M." and "M. C.", "S. M." and
    "Sandra M."; not "Sandra" and "Susan")."""
    a, b = initials_of(first), initials_of(second)
    if not (a.startswith(b) or b.startswith(a)):
        return False
    return only_initials(first) or only_initials(second)
