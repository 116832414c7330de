"""``lpfiqa`` with every file this process writes logged: run by tests/test_distributed_train.py under torchrun.

An audit hook (PEP 578) records each path the process opens for writing, renames or replaces a file onto,
or creates as a folder; at exit the list goes to ``$LPFIQA_WRITE_LOG/rank<RANK>.txt``, one path a line.
Safetensors writes from Rust, unseen here, but every lpfiqa write goes through ``utils.atomic_write``,
whose temporary file (``os.open``) and final ``os.replace`` are seen.
"""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND
_written: list[str] = []
_closed = False


def _path(p: object) -> str | None:
    return os.fsdecode(p) if isinstance(p, str | bytes | os.PathLike) else None


def _hook(event: str, args: tuple) -> None:
    if _closed:
        return
    if event == "open":
        path, mode, flags = args
        writes = bool(flags & _WRITE_FLAGS) if isinstance(flags, int) else any(c in str(mode or "") for c in "wax+")
        if writes and _path(path):
            _written.append(_path(path))
    elif event in ("os.rename", "os.replace") and _path(args[1]):
        _written.append(_path(args[1]))
    elif event == "os.mkdir" and _path(args[0]):
        _written.append(_path(args[0]))


def _dump() -> None:
    global _closed
    _closed = True
    log = Path(os.environ["LPFIQA_WRITE_LOG"]) / f"rank{os.environ.get('RANK', '0')}.txt"
    log.write_text("".join(f"{os.path.abspath(p)}\n" for p in _written))


if __name__ == "__main__":
    sys.addaudithook(_hook)
    atexit.register(_dump)
    from lpfiqa.cli import main

    main()
