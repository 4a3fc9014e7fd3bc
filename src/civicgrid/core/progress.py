"""A rich progress bar for long steps in commands, fed by services' (label, done, total) calls."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Rows (or items) per second, the number an operator watches during a long import."""

    def render(self, task) -> Text:
        return Text(f"{task.speed:,.0f} 行/秒" if task.speed else "")


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator:
    if not enabled:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=False) as bar:
        tasks: dict[str, int] = {}

        def report(label: str, done: int, total: int) -> None:
            """``total`` 0 means not known in advance (a streamed file): count without a bar."""
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total or None)
            bar.update(tasks[label], completed=done, total=total or None)

        yield report
