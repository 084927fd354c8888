"""Output streaming: what the search process's memory does while a program prints 200 MiB.

Everything a program prints goes to its trial's log as it arrives, so the search should hold
no copy of it. Prints the search process's resident memory before and after, and the log's
size. `python benchmarks/streaming.py [--mib 200]`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import psutil

from hypermax.execution.base import TrialRequest
from hypermax.execution.executable import ExecutableExecutor

PROGRAM = """
import sys
line = "x" * 1023 + "\\n"
block = line * 1024
for _ in range(int(sys.argv[1])):
    sys.stdout.write(block)
print(0.25)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=200)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "prints.py").write_text(PROGRAM)
        search = psutil.Process()
        before = search.memory_info().rss
        started = time.perf_counter()
        command = [sys.executable, "prints.py", str(options.mib)]
        with ExecutableExecutor(command, folder) as executor:
            executor.submit(TrialRequest(1, {}, folder / "trial-1.log"))
            while not executor.wait(0.5):
                pass
        seconds = time.perf_counter() - started
        grown = (search.memory_info().rss - before) / 2**20
        size = (folder / "trial-1.log").stat().st_size / 2**20
    print(
        f"{options.mib} MiB printed in {seconds:.2f} s; log {size:.0f} MiB; "
        f"search process memory grew {grown:.1f} MiB"
    )


if __name__ == "__main__":
    main()
