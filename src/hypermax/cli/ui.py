"""``hypermax ui``: the console UI attached to a search (running or finished)."""

from __future__ import annotations

import argparse
import difflib

from hypermax.errors import NotAResultsFolder
from hypermax.live import SearchRef, find_searches


def chosen(refs: list[SearchRef], name: str | None) -> list[SearchRef]:
    """The searches the UI offers: the one named ``name``, or all of them."""
    if name is None:
        return refs
    picked = [ref for ref in refs if ref.name == name]
    if picked:
        return picked[:1]
    names = [ref.name for ref in refs]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise NotAResultsFolder(
        f"no search named {name!r} there (it holds {', '.join(map(repr, names))}){hint}"
    )


def ui(options: argparse.Namespace) -> int:
    from hypermax.ui import HypermaxApp  # Textual loads only for this command

    refs = chosen(find_searches(options.location), options.search)
    app = HypermaxApp(refs, poll_interval=options.interval, owner=options.owner)
    result = app.run()
    return int(result or 0)
