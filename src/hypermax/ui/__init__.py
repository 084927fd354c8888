"""The console UI (Textual): ``hypermax ui DIR`` follows a running or finished search.

It reads storage only (`hypermax.live`), so it attaches from another terminal, or another
machine against PostgreSQL, and quitting it never stops the search it watches.
"""

from hypermax.ui.app import HypermaxApp

__all__ = ["HypermaxApp"]
