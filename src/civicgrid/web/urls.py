from django.urls import path

from civicgrid.web import grid, views, workbench

app_name = "web"
urlpatterns = [
    path("", views.portal, name="home"),
    path("regions/", views.overview, name="regions"),
    path("regions/<str:code>/", views.region, name="region"),
    path("track/", views.track_lookup, name="track_lookup"),
    path("track/<str:number>", views.track, name="track"),
    path("track/<str:number>/rate", views.rate, name="rate"),
    path("workbench/", workbench.home, name="workbench"),
    path("workbench/find", workbench.find, name="workbench_find"),
    path("workbench/intake/", workbench.intake, name="workbench_intake"),
    path("workbench/caller", workbench.caller, name="workbench_caller"),
    path("workbench/events/<str:number>/", workbench.event, name="workbench_event"),
    path("workbench/events/<str:number>/act", workbench.act, name="workbench_act"),
    path("workbench/events/<str:number>/reveal", workbench.reveal, name="workbench_reveal"),
    path("grid/", grid.home, name="grid"),
    path("healthz", views.healthz, name="healthz"),
]
