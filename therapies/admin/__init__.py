"""The therapies admin, one module per part of the domain.

Django's autodiscovery imports this package; importing the modules registers
their admins.
"""

from . import agents, evidence, mechanisms, outcomes, review, trials  # noqa: F401
