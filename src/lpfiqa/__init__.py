"""lpfiqa: blind image quality assessment with the Lightweight Parallel Framework (LPF).

Example:
    >>> import lpfiqa
    >>> lpfiqa.list_models()
    ['lpf-lite-v1', 'lpf-synth-v1', 'lpf-synth-v2', 'lpf-synth-v3', 'lpf-synth-v4']
"""

from typing import TYPE_CHECKING

from ._lazy import lazy_getattr
from .errors import ImageReadError, LpfiqaError, UnknownModelError

if TYPE_CHECKING:  # the real imports, for type checkers and IDEs
    from .inference import Prediction, QualityModel
    from .models import LPFConfig
    from .registry import create_model, list_models

# ``import lpfiqa`` (and so ``lpfiqa --help``) must not pay for importing torch: these resolve on first use.
__getattr__ = lazy_getattr(__name__, {
    "Prediction": "inference",
    "QualityModel": "inference",
    "LPFConfig": "models",
    "create_model": "registry",
    "list_models": "registry",
})


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
