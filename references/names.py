"""People's names as citation styles need them: initials with full stops.

PubMed writes initials run together ("SM"), and a style given "SM" as a
given name prints one initial ("Swain S"): it cannot tell initials from a
name. HER2db stores initials as "S. M." (or the full given name where the
source gives one), which every style shortens or prints correctly.
"""

import re

# Given names that are nothing but initials written without full stops:
# "SM", "S M", "H", "J-P", "Å" (PubMed's Initials, and the older curated
# data): up to five letters, each a capital (accented ones too).
BARE_INITIALS = re.compile(r"^[^\W\d_](?:[ -]?[^\W\d_]){0,4}$")

# A generational suffix written at the end of the given name ("CE Jr", as
# some sources print it), which belongs in the author's suffix.
TRAILING_SUFFIX = re.compile(r"^(?P<given>.*\S)\s+(?P<suffix>Jr\.?|Sr\.?|II|III|IV)$")


def dotted_initials(given: str) -> str:
    """ "EJ" -> "E. J.", "J-P" -> "J.-P.", "H" -> "H."; anything else unchanged."""
    given = given.strip()
    if not needs_stops(given):
        return given
    out = ""
    for char in given.replace(" ", ""):
        if char == "-":
            out = out.rstrip() + "-"
        else:
            out += char + ". "
    return out.strip()


def split_suffix(given: str) -> tuple[str, str]:
    """ "CE Jr" -> ("CE", "Jr"); a given name without a suffix is unchanged."""
    found = TRAILING_SUFFIX.match(given.strip())
    if found is None:
        return given, ""
    return found["given"], found["suffix"].rstrip(".")


def person_name(given: str) -> tuple[str, str]:
    """A source's given name as stored: (given name with full stops, suffix)."""
    given, suffix = split_suffix(given)
    return dotted_initials(given), suffix


def needs_stops(given: str) -> bool:
    """Is this given name initials run together, or without their full stops?"""
    given = given.strip()
    return bool(BARE_INITIALS.match(given)) and given.replace("-", "").isupper()


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
