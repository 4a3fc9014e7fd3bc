from django.apps import AppConfig


class WebConfig(AppConfig):
    """The pages: base template, static assets, the citizen portal and tracking page, the staff
    workbench, the grid worker's phone page and the region explorer."""

    name = "civicgrid.web"
    verbose_name = "页面"
