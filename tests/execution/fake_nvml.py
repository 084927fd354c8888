"""A stand-in for NVIDIA's NVML (the ``pynvml`` module of nvidia-ml-py), so that the GPU memory
watch can be tested on a machine without an NVIDIA GPU and driver, where the real NVML only
says that it cannot be used. It plays the driver's part only: the devices, the processes each
lists with the bytes they use, and the driver's errors; the monitor's code that reads them runs
as it is. The real NVML is exercised by the device check on a GPU machine.

Install it with ``monkeypatch.setitem(sys.modules, "pynvml", FakeNvml(...))``.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field


class NVMLError(Exception):
    """What every NVML call raises when the driver answers with an error."""


@dataclass
class GpuProcess:
    """A process as NVML lists it: ``usedGpuMemory`` in bytes, or None where the driver
    cannot tell (as it does for some processes)."""

    pid: int
    usedGpuMemory: int | None  # NVML's name


@dataclass
class Device:
    """One GPU and the processes its two lists hold; a list given as an ``NVMLError`` is
    that error, raised when the list is asked for."""

    compute: list[GpuProcess] | NVMLError = field(default_factory=list)
    graphics: list[GpuProcess] | NVMLError = field(default_factory=list)


class FakeNvml(types.ModuleType):
    """The calls of ``pynvml`` that the monitor makes, answered from ``devices``;
    ``init_error`` is what ``nvmlInit`` raises (no driver, say)."""

    NVMLError = NVMLError

    def __init__(self, *devices: Device, init_error: Exception | None = None) -> None:
        super().__init__("pynvml")
        self.devices = list(devices)
        self.init_error = init_error
        self.initialised = False

    def nvmlInit(self) -> None:
        if self.init_error is not None:
            raise self.init_error
        self.initialised = True

    def nvmlDeviceGetCount(self) -> int:
        self._check_initialised()
        return len(self.devices)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> Device:
        self._check_initialised()
        if not 0 <= index < len(self.devices):
            raise NVMLError("Invalid Argument")
        return self.devices[index]

    def nvmlDeviceGetComputeRunningProcesses(self, handle: Device) -> list[GpuProcess]:
        return self._listed(handle, "compute")

    def nvmlDeviceGetGraphicsRunningProcesses(self, handle: Device) -> list[GpuProcess]:
        return self._listed(handle, "graphics")

    def _listed(self, handle: Device, kind: str) -> list[GpuProcess]:
        self._check_initialised()
        if not any(handle is device for device in self.devices):
            raise NVMLError("Invalid Argument")
        listed = getattr(handle, kind)
        if isinstance(listed, NVMLError):
            raise listed
        return list(listed)

    def _check_initialised(self) -> None:
        if not self.initialised:
            raise NVMLError("Uninitialized")
