"""Training on several processes or machines: ``torchrun --nproc_per_node N -m lpfiqa train ...``.

torchrun starts one process per rank and describes the job in the environment (``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT``); :func:`session` joins that
process group (gloo for CPU tensors, NCCL for CUDA ones) and leaves it at the end. Without those
variables, or with ``WORLD_SIZE=1``, nothing here does anything and one process trains exactly
as before.

What each rank does with a global batch (the batch one process would train on: same images,
same order, same random windows, all drawn from the shared seed):

* it runs the heads on its own contiguous slice of the batch (sizes differ by at most one image;
  a batch smaller than the number of ranks leaves some ranks an empty slice);
* it all-gathers every rank's per-image outputs (score, global latent ``g``, category and
  diagnosis logits: a few hundred floats per image), so every rank holds the whole batch: its own
  rows carry gradient, the other ranks' rows are constants;
* it computes the one-process loss of the *global* batch on them: every pair (i, j) of the global
  batch for the comparison, ranking and order terms, not only pairs inside its slice.

Why pairs across the global batch rather than within a rank's slice: the pair terms are
quadratic in the batch, so slices of B/N images would keep only about 1/N of the B(B-1)/2 pairs,
and which same-photo pairs survive would depend on how a grouped batch happens to be cut. The
objective would then change with the number of processes; gathered, it does not (tested: two
processes reach one process's weights to float rounding). The price is one all-gather of
(B/N, 1 + D + K + F) floats per step and every rank repeating the pair work, which is small next
to the FEN (pairs see pooled latents, not tokens).

Gradients: every rank's loss has the same value, and its gradient with respect to the rank's own
rows is exact. The heads' parameters get gradient only through those rows, so summing over ranks
gives the full gradient; DDP averages (divides by N), so the own rows' gradient is multiplied by
N on the way back (:class:`_ScaleGrad`). The comparison head sees the whole batch on every rank,
so each rank already has its full gradient, and the average keeps it. DDP runs with
``find_unused_parameters``: a stage or a batch may leave a head out of the loss (the two-stage
schedule, a batch without a known distortion family, the FEN frozen in stage two).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import torch
from torch import nn

from ..models.lpf import LPFHeads
from .losses import LossParts, batch_loss

__all__ = ["World", "backend_for", "env_world", "gather_batch", "is_main", "session", "wrap_heads"]

T = TypeVar("T")
# A rank may wait at the feature barrier while another still encodes (a partly filled cache can
# leave one rank most of the misses), so collectives wait far longer than torch's default 30 min.
TIMEOUT = timedelta(hours=6)
GATHERED = ("score", "g", "logits", "diag_logits")  # the outputs the loss reads (losses.batch_loss)


@dataclass(frozen=True)
class World:
    """This process's place in the job; with ``size == 1`` every method is a no-op.

    Example:
        >>> w = World(rank=1, size=3)
        >>> w.shard(list("abcdefg")), w.counts(8), w.rows(8)
        (['b', 'e'], [3, 3, 2], (3, 6))
        >>> World().broadcast("x"), World().is_main
        ('x', True)
    """

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    device: str = "cpu"  # where collectives' tensors live (CUDA for NCCL)

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that writes the run folder."""
        return self.rank == 0

    def shard(self, items: Sequence[T]) -> list[T]:
        """This rank's share of ``items``: every ``size``-th one from ``rank`` (balanced if sorted by size)."""
        return list(items[self.rank::self.size])

    def counts(self, n: int) -> list[int]:
        """How many of ``n`` batch rows each rank gets (the first ``n % size`` ranks one more)."""
        base, extra = divmod(n, self.size)
        return [base + (r < extra) for r in range(self.size)]

    def rows(self, n: int) -> tuple[int, int]:
        """This rank's contiguous slice ``[lo, hi)`` of a batch of ``n`` rows."""
        counts = self.counts(n)
        lo = sum(counts[:self.rank])
        return lo, lo + counts[self.rank]

    def barrier(self) -> None:
        if self.size > 1:
            torch.distributed.barrier()

    def broadcast(self, obj: T) -> T:
        """Rank 0's ``obj`` on every rank (pickled; for small things: decisions, a checkpoint)."""
        if self.size == 1:
            return obj
        box = [obj]
        torch.distributed.broadcast_object_list(box, src=0, device=torch.device(self.device))
        return box[0]

    def sum(self, values: Sequence[float]) -> list[float]:
        """Element-wise sum of ``values`` over ranks."""
        if self.size == 1:
            return [float(v) for v in values]
        t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(t)
        return t.tolist()


def env_world() -> World:
    """The job torchrun (or another launcher with its variables) describes; one process without them."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    return World(int(os.environ.get("RANK", "0")), size, int(os.environ.get("LOCAL_RANK", "0")))


def is_main() -> bool:
    """True on rank 0, or in a process not started by torchrun (for printing once)."""
    return env_world().is_main


def backend_for(device: torch.device | str) -> str:
    """The collective backend for tensors on ``device``: NCCL for CUDA, gloo otherwise.

    Example:
        >>> backend_for("cpu"), backend_for("cuda:0")
        ('gloo', 'nccl')
    """
    return "nccl" if torch.device(device).type == "cuda" else "gloo"


@contextmanager
def session(device: torch.device | str = "cpu") -> Iterator[World]:
    """Join the process group the environment describes for the duration of the block.

    A group that is already initialised (by the caller's own script) is used as is and left
    open; otherwise one is created from torchrun's variables when ``WORLD_SIZE > 1`` and destroyed
    at the end. ``device`` is where the training tensors live (the heads train on CPU today).
    """
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        yield World(dist.get_rank(), dist.get_world_size(), env_world().local_rank, str(device))
        return
    env = env_world()
    if env.size == 1:
        yield env
        return
    dev = torch.device(device)
    if dev.type == "cuda":
        dev = torch.device("cuda", env.local_rank)
        torch.cuda.set_device(dev)
    dist.init_process_group(backend_for(dev), timeout=TIMEOUT)
    try:
        yield World(dist.get_rank(), dist.get_world_size(), env.local_rank, str(dev))
    finally:
        dist.destroy_process_group()


class _ScaleGrad(torch.autograd.Function):
    """Identity forward; multiplies the gradient by ``factor`` on the way back."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, factor: float) -> torch.Tensor:
        ctx.factor = factor
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad * ctx.factor, None


def gather_batch(out: dict[str, torch.Tensor], world: World, n: int) -> dict[str, torch.Tensor]:
    """Every rank's outputs for its slice -> the whole batch of ``n`` rows, in batch order.

    This rank's rows keep their gradient (times ``world.size``, see the module docstring); the
    other ranks' rows are constants. One all-gather carries all :data:`GATHERED` outputs; each
    output is then rebuilt on its own, so a head whose output the loss leaves out gets no
    gradient (None, as in one process: AdamW then leaves it alone, weight decay included).
    """
    keys = [k for k in GATHERED if k in out]
    counts = world.counts(n)
    own = {k: out[k][:, None] if out[k].ndim == 1 else out[k] for k in keys}  # score (n_local,) -> (n_local, 1)
    local = torch.cat([own[k] for k in keys], 1).detach()  # (n_local, 1 + D + K + F); n_local may be 0
    padded = local.new_zeros(max(counts), local.shape[1])  # all_gather needs one shape on every rank
    padded[:len(local)] = local
    gathered = [torch.empty_like(padded) for _ in range(world.size)]
    torch.distributed.all_gather(gathered, padded)
    full, start = {}, 0
    for k in keys:
        width = own[k].shape[1]
        pieces = [g[:c, start:start + width] for g, c in zip(gathered, counts, strict=True)]
        pieces[world.rank] = _ScaleGrad.apply(own[k], float(world.size))
        full[k] = torch.cat(pieces)  # (n, width)
        start += width
    full["score"] = full["score"].reshape(n)
    return full


class _GlobalBatchLoss(nn.Module):
    """What DDP wraps: the heads on this rank's slice, then the whole batch's loss.

    The comparison head runs here too (inside DDP's forward), so DDP sees every parameter the
    loss reaches, and only those.
    """

    def __init__(self, heads: LPFHeads, world: World) -> None:
        super().__init__()
        self.heads = heads
        self.world = world

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor, y: torch.Tensor,
                *terms: Any) -> tuple[torch.Tensor, LossParts]:
        lo, hi = self.world.rows(len(y))
        out = gather_batch(self.heads(tokens[lo:hi], mask[lo:hi]), self.world, len(y))
        total, parts = batch_loss(self.heads, out, y, *terms)
        # only the total goes back through DDP: a part outside it (the regression in the first
        # stage of two) would make DDP wait for gradients that never come
        return total, {k: v.detach() for k, v in parts.items()}


def wrap_heads(heads: LPFHeads, world: World) -> nn.Module:
    """``DistributedDataParallel`` around the whole-batch loss of ``heads``.

    Called as ``loss, parts = wrapped(tokens, mask, y, *terms)`` with the global batch's tokens,
    mask and targets and :func:`lpfiqa.training.losses.batch_loss`'s other arguments.
    """
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [torch.device(world.device).index] if torch.device(world.device).type == "cuda" else None
    return DistributedDataParallel(_GlobalBatchLoss(heads, world), device_ids=device_ids,
                                   find_unused_parameters=True)
