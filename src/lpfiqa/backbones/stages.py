"""Stage tables of the encoders, apart from the networks so that configs can check them without importing torch."""

from __future__ import annotations

__all__ = ["EFFICIENTNET_LITE0_STAGES", "MOBILENET_V2_STAGES", "STAGES", "VGG16_STAGES"]

# Stage outputs a caller can ask for: name -> (channels, stride w.r.t. the input).
# VGG16: after the ReLU of the last conv of each block.
VGG16_STAGES: dict[str, tuple[int, int]] = {
    "conv1_2": (64, 1), "conv2_2": (128, 2), "conv3_3": (256, 4), "conv4_3": (512, 8), "conv5_3": (512, 16),
}
# MobileNetV2 (torchvision's `features.N`): the output of inverted-residual block N where the channel
# count or the stride is about to change (the last block of each of the paper's seven settings), and the
# final 1x1 conv.
MOBILENET_V2_STAGES: dict[str, tuple[int, int]] = {
    "block1": (16, 2), "block3": (24, 4), "block6": (32, 8), "block10": (64, 16), "block13": (96, 16),
    "block16": (160, 32), "block17": (320, 32), "conv18": (1280, 32),
}
# EfficientNet-Lite0 (`_blocks.N`): the last block of each of its seven stages.
EFFICIENTNET_LITE0_STAGES: dict[str, tuple[int, int]] = {
    "block0": (16, 2), "block2": (24, 4), "block4": (40, 8), "block7": (80, 16), "block10": (112, 16),
    "block14": (192, 32), "block15": (320, 32),
}
STAGES = VGG16_STAGES  # the name older code imports: VGG16's table
