from django.apps import AppConfig


class RentalConfig(AppConfig):
    """Rental houses (出租屋分类分级): grading, inspections, signed QR door plates."""

    name = "civicgrid.rental"
    verbose_name = "出租屋分类分级"
