"""Export the whole inference graph (ONNX, TorchScript) and score through ONNX Runtime.

Needs the ``onnx`` extra for ONNX (``pip install 'lpfiqa[onnx]'``); TorchScript needs only torch.

Example:
    >>> from lpfiqa.export import FORMATS
    >>> FORMATS
    ('onnx', 'torchscript')
"""

from __future__ import annotations

from .graph import InferenceGraph
from .onnx import FORMATS, OnnxQualityModel, export_model, metadata_of, onnx_for

__all__ = ["FORMATS", "InferenceGraph", "OnnxQualityModel", "export_model", "metadata_of", "onnx_for"]
