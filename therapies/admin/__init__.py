"""The therapies admin, one module per part of the domain.

Django's autodiscovery imports this package; importing the modules registers
their admins.
"""

from . import agents, citations, evidence, mechanisms, review, trials  # noqa: F401
