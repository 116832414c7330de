"""VGG16's stage table, apart from the network so that configs can check it without importing torch."""

from __future__ import annotations

__all__ = ["STAGES"]

# Stage outputs (after ReLU) a caller can ask for: name -> (channels, stride w.r.t. the input).
STAGES: dict[str, tuple[int, int]] = {
    "conv1_2": (64, 1), "conv2_2": (128, 2), "conv3_3": (256, 4), "conv4_3": (512, 8), "conv5_3": (512, 16),
}
