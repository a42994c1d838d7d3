"""The therapies app's API resources, registered on the project's router."""

from .views import (
    AgentViewSet,
    ChangeViewSet,
    EvidenceViewSet,
    MechanismViewSet,
    TargetViewSet,
    TrialViewSet,
)

# (URL prefix, viewset, basename): her2db/api/urls.py registers each.
routes = [
    ("agents", AgentViewSet, "agents"),
    ("targets", TargetViewSet, "targets"),
    ("mechanisms", MechanismViewSet, "mechanisms"),
    ("trials", TrialViewSet, "trials"),
    ("evidence", EvidenceViewSet, "evidence"),
    ("changes", ChangeViewSet, "changes"),
]
