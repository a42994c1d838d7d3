"""Who may do what through the API: the default permission class.

REST_FRAMEWORK in settings names it, so DRF imports it while importing its
own views: it must import nothing from the modules that build on them.
"""

from rest_framework import permissions


class ModelPermissions(permissions.DjangoModelPermissionsOrAnonReadOnly):
    """Anyone reads; writing needs the model permission (add, change, delete).

    DRF's class builds the view's queryset on every request to find the model,
    though reading needs no permission: that work is skipped for reads.
    """

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return super().has_permission(request, view)
