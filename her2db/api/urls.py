"""The API's one router, mounted at /api/v1/ by her2db/urls.py.

Every resource the registry declares with a basename is served here by the
viewset it names.
"""

from django.urls import path
from django.utils.module_loading import import_string
from rest_framework.routers import DefaultRouter

from her2db.registry import registry


class Router(DefaultRouter):
    # `/agents.json` and the like would double every path in the schema;
    # ?format= and Accept choose the format instead.
    include_format_suffixes = False


router = Router()
for resource in registry.endpoints():
    router.register(
        resource.basename, import_string(resource.viewset), basename=resource.basename
    )

# Not a resource: the claims counted by agent and mechanism (therapies/map.py).
urlpatterns = [
    path("map/", import_string("therapies.views.MapView").as_view(), name="map-data"),
    *router.urls,
]
