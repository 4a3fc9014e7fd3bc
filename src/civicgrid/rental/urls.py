from django.urls import path

from civicgrid.rental import views

app_name = "rental"
urlpatterns = [
    path("q/<str:code>", views.scan, name="scan"),
    path("rental/landlord/<str:code>", views.landlord, name="landlord"),
]
