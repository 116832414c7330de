"""Run independent fits in forked one-thread processes that inherit the parent's data.

A fit of LPF's small heads cannot keep two cores busy, so the protocol's (split, method) fits
and the benchmarks' seeds run side by side, one thread each. The processes are forked: the
function and everything it reads (token grids: gigabytes) are inherited copy-on-write instead
of being pickled to each worker; only the tasks and the results cross the process boundary.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["fork_map"]

T = TypeVar("T")
R = TypeVar("R")

# What a forked worker calls: set in the parent just before the fork, cleared after.
_FN: dict[str, Callable[[Any], Any]] = {}


def _call(task: Any) -> Any:
    import torch

    # One thread per process: the processes are the parallelism, and a forked child must not
    # enter the parent's OpenMP thread pool (GNU OpenMP is not fork-safe).
    torch.set_num_threads(1)
    return _FN["fn"](task)


def fork_map(fn: Callable[[T], R], tasks: Iterable[T], workers: int, ordered: bool = False) -> Iterator[R]:
    """``fn(task)`` for every task: in this process (``workers <= 1``) or in ``workers`` forked ones.

    Args:
        fn: Any callable, closures included (it is inherited, not pickled); its tasks and
            results must pickle.
        tasks: The inputs.
        workers: Processes; 1 runs everything here, in order, with torch's threads as they are.
        ordered: Yield in the order of ``tasks``; otherwise as they finish.

    Example:
        >>> offset = 10
        >>> sorted(fork_map(lambda x: x + offset, range(4), workers=2))
        [10, 11, 12, 13]
    """
    if workers <= 1:
        yield from map(fn, tasks)
        return
    _FN["fn"] = fn
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield from (pool.imap if ordered else pool.imap_unordered)(_call, tasks)
    finally:
        _FN.clear()
