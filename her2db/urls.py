from django.contrib import admin
from django.urls import path

admin.site.site_header = "HER2db curation"
admin.site.site_title = "HER2db"
admin.site.index_title = "Curated data"

urlpatterns = [
    path("admin/", admin.site.urls),
]
