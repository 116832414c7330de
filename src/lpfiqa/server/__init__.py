"""The HTTP scoring service: a thin JSON layer over :class:`~lpfiqa.inference.QualityModel`.

Standard library only (:mod:`http.server`, :mod:`email` for multipart). Endpoints:

    GET  /health   {"status": "ok", "model": NAME}
    GET  /model    name, score range and direction, stages, limits
    POST /score    raw image body (image/*, application/octet-stream)
                   -> {"score", "width", "height", "model"}; ``?maps=1`` adds the DaQRN maps; a model
                   with a diagnosis head adds "diagnosis" {family: probability} and "top_family"
    POST /score    multipart/form-data with one or more files
                   -> {"results": [{"filename", "score" | "error"}, ...], "failed": n}

Every error is ``{"error": "<one line saying what to do>"}`` with a 4xx/5xx status; stack traces
stay in the server's log. Images are read and decoded concurrently (at most
``ServerConfig.max_concurrent`` at once, which bounds memory); the model itself runs under one
lock, so inference is serialized. There is no authentication or TLS: keep the default
``127.0.0.1`` or put a reverse proxy in front.
"""

from __future__ import annotations

from ._http import ENDPOINTS as ENDPOINTS
from ._http import MULTIPART_HINT as MULTIPART_HINT
from ._http import RAW_HINT as RAW_HINT
from .app import LpfiqaServer, ServerConfig, ServerStats, make_server, serve

__all__ = ["LpfiqaServer", "ServerConfig", "ServerStats", "make_server", "serve"]
