"""What a worker tells the search: JSON messages in length-prefixed frames, read without blocking.

The model runs inside the worker and can write anything into the pipe to the search. So the
search never unpickles what a worker sends (JSON only: no object is rebuilt, no code runs),
never waits for the rest of a frame (a partial one stays buffered until the rest arrives), and
checks the shape of every message. Anything else is a ``ChannelError``: it fails that trial,
never the search.
"""

from __future__ import annotations

import json
import os
import struct
from multiprocessing.connection import Connection, wait
from typing import Any

MAX_MESSAGE = 64 * 1024 * 1024
_HEADER = struct.Struct("!i")  # the framing of Connection.send_bytes below 2 GiB
_READ_SIZE = 65536

# the fields after each kind: "n" a number, "i" an integer, "s" a string, "*" any plain data
SHAPES = {
    "ready": "nn",  # memory the worker shares with the search: PSS, RSS (MiB)
    "load_error": "sss",  # config path, message, traceback
    "leaving": "",  # the worker exits after the outcome that follows: the trial broke it
    "report": "iin",  # trial, step, value
    "result": "i*nn",  # trial, value, seconds, peak RSS
    "pruned": "inn",  # trial, seconds, peak RSS
    "error": "issnn",  # trial, error, traceback, seconds, peak RSS
}


class ChannelError(Exception):
    """A worker sent something that is not a message of ``SHAPES``."""


def send_message(connection: Connection, *message: Any) -> None:
    """The worker's side: send one message; ValueError when it is too large to send."""
    payload = json.dumps(message).encode("utf-8")
    if len(payload) > MAX_MESSAGE:
        raise ValueError(
            f"the message is {len(payload) / 2**20:.0f} MiB; at most "
            f"{MAX_MESSAGE // 2**20} MiB can go back to the search (return metrics, not data)"
        )
    connection.send_bytes(payload)


class Receiver:
    """The search's side of one worker's pipe."""

    def __init__(self, connection: Connection):
        self._fd = connection.fileno()
        self._buffer = bytearray()
        self.closed = False

    def receive(self) -> list[tuple]:
        """The complete messages that have arrived; ChannelError on anything malformed."""
        while not self.closed and len(self._buffer) <= MAX_MESSAGE + _HEADER.size:
            try:
                if not wait([self._fd], 0):
                    break
                chunk = os.read(self._fd, _READ_SIZE)
            except OSError:
                chunk = b""
            if not chunk:
                self.closed = True  # the worker's exit tells what happened
            self._buffer += chunk
        messages = []
        while len(self._buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer)
            if not 0 <= size <= MAX_MESSAGE:
                raise ChannelError(f"a frame of {size} bytes")
            if len(self._buffer) < _HEADER.size + size:
                break
            payload = bytes(self._buffer[_HEADER.size : _HEADER.size + size])
            del self._buffer[: _HEADER.size + size]
            messages.append(_decode(payload))
        return messages


def _decode(payload: bytes) -> tuple:
    try:
        message = json.loads(payload)
    except (ValueError, RecursionError) as error:
        raise ChannelError(f"not JSON ({type(error).__name__})") from None
    if not isinstance(message, list) or not message or message[0] not in SHAPES:
        raise ChannelError(f"not a message: {payload[:80]!r}")
    shape = SHAPES[message[0]]
    fields = message[1:]
    if len(fields) != len(shape) or not all(map(_fits, shape, fields)):
        raise ChannelError(f"a malformed {message[0]!r} message: {payload[:80]!r}")
    return tuple(message)


def _fits(kind: str, value: Any) -> bool:
    if kind == "*":
        return True
    if isinstance(value, bool):
        return False
    if kind == "i":
        return isinstance(value, int)
    if kind == "n":
        return isinstance(value, (int, float))
    return isinstance(value, str)
