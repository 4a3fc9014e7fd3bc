from django.urls import path

from civicgrid.registry import views

app_name = "registry"
urlpatterns = [
    path("", views.home, name="home"),
    path("buildings/<str:code>/", views.building, name="building"),
    path("houses/<str:code>/", views.house, name="house"),
]
