"""lpfiqa: blind image quality assessment with the Lightweight Parallel Framework (LPF).

Example:
    >>> import lpfiqa
    >>> lpfiqa.list_models()
    ['lpf-synth-v1', 'lpf-synth-v2', 'lpf-synth-v3']
"""

from .errors import ImageReadError, LpfiqaError, UnknownModelError
from .inference import Prediction, QualityModel
from .models import LPFConfig
from .registry import create_model as create_model
from .registry import list_models as list_models

__version__ = "0.1.0"

__all__ = [
    "ImageReadError",
    "LPFConfig",
    "LpfiqaError",
    "Prediction",
    "QualityModel",
    "UnknownModelError",
    "__version__",
    "create_model",
    "list_models",
]
