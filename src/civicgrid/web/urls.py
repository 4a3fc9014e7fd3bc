from django.urls import path

from civicgrid.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("regions/<str:code>/", views.region, name="region"),
    path("healthz", views.healthz, name="healthz"),
]
