"""Top-level URLs: pages, the admin, the JSON API (DESIGN §11)."""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from civicgrid.core.api import api

admin.site.site_header = _("civicgrid 社会治理平台管理")
admin.site.site_title = "civicgrid"
admin.site.index_title = _("数据管理")

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("civicgrid.accounts.urls")),
    path("workbench/registry/", include("civicgrid.registry.urls")),
    path("open311/", include("civicgrid.open311.urls")),
    path("", include("civicgrid.rental.urls")),
    path("workbench/hotspots/", include("civicgrid.triage.urls")),
    path("dashboard/", include("civicgrid.analytics.urls")),
    path("", include("civicgrid.web.urls")),
]
