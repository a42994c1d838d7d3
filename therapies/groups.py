"""The curators' and editors' groups, kept in step with the models after migrate."""

from django.apps import apps as global_apps

# Rows a curator edits through a parent's form (inlines, relation widgets):
# removing one is part of editing the parent, not deleting curated data.
OWNED_ROWS = {
    "references": ["citationauthor"],
    "therapies": [
        "agentalias",
        "agenttarget",
        "approval",
        "mechanismgene",
        "trialpublication",
        "trialarm",
        "trialarmagent",
        "evidenceagent",
        "evidencetrial",
        "evidencecitation",
    ],
}
CURATED_APPS = ["references", "therapies"]
CURATORS = "Curators"
EDITORS = "Editors"


# Records the system keeps about the curated data, not curated data itself.
NOT_CURATED = {"changeentry"}


def curated_models(apps):
    for label in CURATED_APPS:
        for model in apps.get_app_config(label).get_models():
            name = model._meta.model_name
            if not name.startswith("historical") and name not in NOT_CURATED:
                yield model


def curated_labels(app_label: str) -> list[str]:
    """The app's curated models, history tables left out, in dependency order."""
    return [
        model._meta.label
        for model in curated_models(global_apps)
        if model._meta.app_label == app_label
    ]


def sync_groups(apps=global_apps, **kwargs) -> None:
    """Create or update the two groups; safe to run any number of times."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    curator, editor = set(), set()
    for model in curated_models(apps):
        opts = model._meta
        owned = opts.model_name in OWNED_ROWS.get(opts.app_label, [])
        for action in ("view", "add", "change", "delete"):
            codename = f"{action}_{opts.model_name}"
            key = (opts.app_label, codename)
            editor.add(key)
            if action != "delete" or owned:
                curator.add(key)
    curator.add(("therapies", "view_unpublished_evidence"))
    editor |= {
        ("therapies", "view_unpublished_evidence"),
        ("therapies", "review_evidence"),
    }
    for name, wanted in ((CURATORS, curator), (EDITORS, editor)):
        group, _ = Group.objects.get_or_create(name=name)
        perms = [
            p
            for p in Permission.objects.filter(
                content_type__app_label__in=CURATED_APPS
            ).select_related("content_type")
            if (p.content_type.app_label, p.codename) in wanted
        ]
        group.permissions.set(perms)
