"""The mutation score of each module `make mutate` mutates: killed mutants out of those tried.

Reads `mutmut results --all true` (run from the project's root after `mutmut run`) and prints,
per module, the mutants the tests caught (failed, timed out or crashed), those they missed
(survived, or no test runs the code), those not tried yet, and the share caught.
`python benchmarks/mutation.py`.
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


def main() -> None:
    mutmut = Path(sys.executable).parent / "mutmut"
    listing = subprocess.run(
        [str(mutmut), "results", "--all", "true"], capture_output=True, text=True, check=True
    ).stdout
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for line in listing.splitlines():
        if match := LINE.match(line):
            counts[match["module"]][match["status"].strip()] += 1
    print(f"{'module':<32}{'killed':>8}{'survived':>10}{'not tried':>11}{'score':>8}")
    for module, statuses in sorted(counts.items()):
        killed = sum(statuses[s] for s in CAUGHT)
        survived = sum(statuses[s] for s in MISSED)
        untried = sum(statuses.values()) - killed - survived
        tried = killed + survived
        score = f"{100 * killed / tried:.0f} %" if tried else "-"
        print(f"{module:<32}{killed:>8}{survived:>10}{untried:>11}{score:>8}")


if __name__ == "__main__":
    main()
