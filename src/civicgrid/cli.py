"""The ``civicgrid`` console script: Django's management commands under the project's name.

``civicgrid init``, ``civicgrid serve``, ``civicgrid import regions FILE`` … are management
commands of the apps, so ``civicgrid migrate`` and friends work too.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["civicgrid", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
