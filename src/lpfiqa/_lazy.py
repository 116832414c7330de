"""Lazy package attributes (PEP 562), so that importing a package does not import torch.

``import torch`` costs about a second of CPU. The CLI's ``--help``, ``lpfiqa models`` and
``lpfiqa data list`` need none of it, yet they import the packages whose ``__init__``
re-export torch-based classes. Each such ``__init__`` maps its public names to submodules
here and resolves a name only when it is first used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_getattr(package: str, names: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``package.<names[attr]>`` on first use of ``attr``.

    Example:
        >>> getattr_ = lazy_getattr("lpfiqa.metrics", {"srcc": "correlation"})
        >>> getattr_("srcc").__name__
        'srcc'
        >>> getattr_("nope")
        Traceback (most recent call last):
        ...
        AttributeError: module 'lpfiqa.metrics' has no attribute 'nope'
    """

    def __getattr__(attr: str) -> Any:
        if attr not in names:
            raise AttributeError(f"module {package!r} has no attribute {attr!r}")
        module = importlib.import_module(f"{package}.{names[attr]}")
        value = getattr(module, attr)
        setattr(importlib.import_module(package), attr, value)  # cache: later lookups skip this
        return value

    return __getattr__
