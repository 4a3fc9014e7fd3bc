"""Small template helpers for the pages: role checks for the navigation, field rendering."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def works_here(user) -> bool:
    """A staff user (any role other than citizen) may open the workbench."""
    return bool(user.is_authenticated and (user.is_superuser or set(user.roles) - {"citizen"}))


@register.filter
def patrols(user) -> bool:
    return bool(
        user.is_authenticated
        and (user.is_superuser or {"grid_worker", "volunteer"} & set(user.roles))
    )


@register.filter
def get(mapping, key):
    return mapping.get(key, "") if mapping else ""


@register.filter
def title_for(event, user) -> str:
    """The event's title as this user may read it: personal data typed into it starred unless
    the user reads free text in clear (``events.selectors.reads_clear_text``; the permission
    check is cached on the user, so a list costs no query per row)."""
    from civicgrid.events import selectors

    if selectors.reads_clear_text(user):
        return event.title
    return selectors.redacted_title(event.title, event.description)
