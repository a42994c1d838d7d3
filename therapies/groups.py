"""The curators' and editors' groups, kept in step with the models after migrate."""

from django.apps import apps as global_apps

from her2db.registry import registry

CURATED_APPS = ["references", "therapies"]
CURATORS = "Curators"
EDITORS = "Editors"
LOCKOUT_PERMISSIONS = {
    ("axes", "view_accessattempt"),
    ("axes", "delete_accessattempt"),
}


def curated_models(apps=global_apps):
    """The curated models, in each app's order (historical ones, from `apps`)."""
    curated = registry.labels(curated=True)
    for app_label in CURATED_APPS:
        for model in apps.get_app_config(app_label).get_models():
            if model._meta.label_lower in curated:
                yield model


def curated_labels(app_label: str) -> list[str]:
    """The app's curated models, history tables left out, in dependency order."""
    return [
        model._meta.label
        for model in curated_models(global_apps)
        if model._meta.app_label == app_label
    ]


def sync_groups(apps=global_apps, **kwargs) -> None:
    """Create or update the two groups; safe to run any number of times.

    Editors may do everything to curated data; curators everything but delete
    a record. Removing a row a record owns (an alias, an arm) is part of
    editing that record, so curators may delete owned rows.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    curated = registry.labels(curated=True)
    owned = curated - {r.label for r in registry.records()}
    curator, editor = set(), set()
    for label in curated:
        app_label, model_name = label.split(".")
        for action in ("view", "add", "change", "delete"):
            key = (app_label, f"{action}_{model_name}")
            editor.add(key)
            if action != "delete" or label in owned:
                curator.add(key)
    curator.add(("therapies", "view_unpublished_evidence"))
    editor |= {
        ("therapies", "view_unpublished_evidence"),
        ("therapies", "review_evidence"),
        # Login lockouts (django-axes): editors see them and unlock an
        # account or address by deleting its failed attempts.
        *LOCKOUT_PERMISSIONS,
    }
    app_labels = sorted({label.split(".")[0] for label in curated} | {"axes"})
    for name, wanted in ((CURATORS, curator), (EDITORS, editor)):
        group, _ = Group.objects.get_or_create(name=name)
        perms = [
            p
            for p in Permission.objects.filter(
                content_type__app_label__in=app_labels
            ).select_related("content_type")
            if (p.content_type.app_label, p.codename) in wanted
        ]
        group.permissions.set(perms)
