"""The mutation score of a module: killed mutants out of those tried.

Reads `mutmut results --all true` in a folder where `mutmut run` ran (`benchmarks/mutate.py`
runs it in `.mutmut/MODULE/`) and gives, per module, the mutants the tests caught (failed,
timed out or crashed), those they missed (survived, or no test runs the code), those not tried
yet, and the share caught. `python benchmarks/mutation.py .mutmut/loss` prints the table again.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

CAUGHT = ("killed", "timeout", "segfault", "suspicious")
MISSED = ("survived", "no tests")
LINE = re.compile(r"^\s*(?P<module>[\w.]+)\.x\S*__mutmut_\d+: (?P<status>[\w ]+)$")


def score_table(folder: Path) -> str:
    """The score per module of the mutmut run kept in `folder`."""
    mutmut = Path(sys.executable).parent / "mutmut"
    listing = subprocess.run(
        [str(mutmut), "results", "--all", "true"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for line in listing.splitlines():
        if match := LINE.match(line):
            counts[match["module"]][match["status"].strip()] += 1
    rows = [f"{'module':<32}{'killed':>8}{'survived':>10}{'not tried':>11}{'score':>8}"]
    for module, statuses in sorted(counts.items()):
        killed = sum(statuses[s] for s in CAUGHT)
        survived = sum(statuses[s] for s in MISSED)
        untried = sum(statuses.values()) - killed - survived
        tried = killed + survived
        score = f"{100 * killed / tried:.0f} %" if tried else "-"
        rows.append(f"{module:<32}{killed:>8}{survived:>10}{untried:>11}{score:>8}")
    return "\n".join(rows)


if __name__ == "__main__":
    print(score_table(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()))
