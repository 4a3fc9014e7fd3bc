from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "civicgrid.accounts"
    verbose_name = "用户与机构"

    def ready(self) -> None:
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="civicgrid.sync_roles")


def _sync_roles(sender, using="default", verbosity=1, **kwargs) -> None:
    """After ``migrate`` on an initialised instance, give the role groups the permissions the
    roles now name (a release that adds one, as events.reveal_reporter, would otherwise reach
    the groups only at the next ``civicgrid init``). A fresh database gets its groups from
    ``civicgrid init``."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group

    from civicgrid.accounts.roles import ROLES

    if not Group.objects.using(using).filter(name__in=list(ROLES)).exists():
        return
    for config in apps.get_app_configs():  # some apps' post_migrate may not have run yet
        create_permissions(config, verbosity=0, using=using)
    from civicgrid.accounts.services import sync_roles

    sync_roles("migrate")
