"""``/open311/discovery.{xml,json}`` and the GeoReport v2 endpoints under ``/open311/v2/``."""

from django.urls import re_path

from civicgrid.open311 import views

app_name = "open311"
_FMT = r"\.(?P<fmt>[A-Za-z0-9]+)$"

urlpatterns = [
    re_path(r"^discovery" + _FMT, views.discovery, name="discovery"),
    re_path(r"^v2/services" + _FMT, views.service_list, name="services"),
    re_path(r"^v2/services/(?P<code>[^/.]+)" + _FMT, views.service_definition, name="service"),
    re_path(r"^v2/requests" + _FMT, views.requests, name="requests"),
    re_path(r"^v2/requests/(?P<number>[^/.]+)" + _FMT, views.request_detail, name="request"),
    re_path(r"^v2/tokens/(?P<token>[^/.]+)" + _FMT, views.token, name="token"),
]
