"""The API's one router, mounted at /api/v1/ by her2db/urls.py.

Each app lists its resources in its urls.py; anything else that belongs to
the API (a change feed, say) registers on `router` here.
"""

from rest_framework.routers import DefaultRouter

from references.urls import routes as reference_routes
from therapies.urls import routes as therapy_routes


class Router(DefaultRouter):
    # `/agents.json` and the like would double every path in the schema;
    # ?format= and Accept choose the format instead.
    include_format_suffixes = False


router = Router()
for prefix, viewset, basename in [*therapy_routes, *reference_routes]:
    router.register(prefix, viewset, basename=basename)

urlpatterns = router.urls
