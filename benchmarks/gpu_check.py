"""GPU check (needs an NVIDIA GPU and driver): per-trial GPU memory is seen, and a trial past
`auto_kill_max_gpu_ram` is killed while it runs.

The trial allocates GPU memory through the CUDA runtime with ctypes (no framework needed), in
steps of 512 MiB up to 4 GiB, against a limit of 1500 MiB. Prints the outcome, the peak GPU
memory recorded and the kill latency after the step that crossed the limit.
`python benchmarks/gpu_check.py` (exit code 0 when the kill happened as it should).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from hypermax.execution.base import OutcomeKind, TrialRequest
from hypermax.execution.local import LocalExecutor
from hypermax.execution.monitor import GpuMemory, Limits
from hypermax.execution.python_function import FunctionSource

MODEL = """
import ctypes, ctypes.util, time

def allocate(p):
    name = ctypes.util.find_library("cudart") or "libcudart.so"
    cudart = ctypes.CDLL(name)
    blocks = []
    for step in range(8):
        pointer = ctypes.c_void_p()
        assert cudart.cudaMalloc(ctypes.byref(pointer), 512 * 1024 * 1024) == 0
        blocks.append(pointer)
        with open(p["stamps"], "a") as f:
            f.write(f"{(step + 1) * 512} {time.time()}\\n")
        time.sleep(1.0)
    return 0.0
"""
LIMIT_MIB = 1500


def main() -> int:
    gpu = GpuMemory()
    if not gpu.available:
        print(f"no GPU to check: {gpu.problem}")
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "gpu_model.py").write_text(MODEL)
        stamps = folder / "stamps"
        source = FunctionSource(module="gpu_model", name="allocate", base_dir=str(folder))
        with LocalExecutor(source, limits=Limits(max_gpu_ram=LIMIT_MIB)) as executor:
            executor.submit(TrialRequest(1, {"stamps": str(stamps)}, folder / "trial.log"))
            outcomes = []
            while not outcomes:
                outcomes = executor.wait(0.1)
        ended = time.time()
        outcome = outcomes[0]
        steps = [line.split() for line in stamps.read_text().splitlines()]
        crossed = next(float(t) for mib, t in steps if int(mib) > LIMIT_MIB)
        print(f"outcome: {outcome.kind.value}: {outcome.error}")
        print(f"resources: {outcome.resources}")
        print(f"kill {1000 * (ended - crossed):.0f} ms after the allocation past the limit")
        print((folder / "trial.log").read_text()[-2000:])
        return 0 if outcome.kind is OutcomeKind.KILLED and "gpu" in (outcome.error or "") else 1


if __name__ == "__main__":
    sys.exit(main())
