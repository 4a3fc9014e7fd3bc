from django.urls import path

from civicgrid.triage import views

app_name = "triage"
urlpatterns = [
    path("", views.hotspots, name="hotspots"),
]
