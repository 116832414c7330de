"""One section per converted encoder in ``src/lpfiqa/weights/WEIGHTS.md``, each rewritten only by its own tool."""

from __future__ import annotations

import os
import re
from pathlib import Path

HEADER = "# Encoder ImageNet weights: provenance\n\nEach section is written by the tool it names; do not edit by hand.\n"


def write_section(path: Path, key: str, text: str) -> None:
    """Replace (or append) the section ``key`` of ``path`` with ``text``, atomically."""
    start, end = f"<!-- {key} -->", f"<!-- /{key} -->"
    old = path.read_text() if path.exists() else HEADER
    if not old.startswith(HEADER):  # the single-section file written before there were two encoders
        old = HEADER
    block = f"{start}\n{text.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    new = pattern.sub(lambda _: block, old) if pattern.search(old) else f"{old.rstrip()}\n\n{block}\n"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(new)
    os.replace(tmp, path)
