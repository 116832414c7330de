"""The names of the full-reference metrics a weak-label calibration may use (torch-free, for configs)."""

from __future__ import annotations

__all__ = ["ALL_METRICS", "COLOUR_METRICS", "METRICS"]

#: The four structural metrics of the original scheme (lpf-synth-v1..v3), in the order they are
#: computed, stored and averaged.
METRICS: tuple[str, ...] = ("ms_ssim", "gmsd", "vif", "mdsi")

#: Colour-aware metrics that can join the consensus (:mod:`lpfiqa.fr.delta_e`): the four above
#: are nearly blind to desaturation and colour diffusion.
COLOUR_METRICS: tuple[str, ...] = ("delta_e",)

#: Every metric a calibration may use, in canonical order.
ALL_METRICS: tuple[str, ...] = METRICS + COLOUR_METRICS
