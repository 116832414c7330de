"""The HTTP scoring service: an ASGI app (FastAPI on uvicorn) over :class:`~lpfiqa.inference.QualityModel`.

Needs the ``serve`` extra (``pip install 'lpfiqa[serve]'``). Endpoints:

    GET  /             the web page: drop images, see scores, diagnoses and quality-map overlays
    GET  /healthz      {"status": "ok", "model", "model_version"}
    GET  /v1/model     name, version, score range and direction, preprocessing, limits
    POST /v1/score     one image (raw body) or many (multipart) -> {"results": [...], "failed", "model", ...}
    POST /v1/map       one image -> its weight and score maps, and PNG overlays (``?format=png``: the PNG)
    GET  /docs, /redoc, /openapi.json   the API's docs and schema, served by the app itself

The first release's ``/health``, ``/model`` and ``/score`` still answer in their old shapes
(marked deprecated). Every error is ``{"error": "<one line saying what to do>"}`` with a 4xx/5xx
status. There is no authentication or TLS: keep the default ``127.0.0.1`` or put a reverse
proxy in front.

Example:
    >>> from fastapi.testclient import TestClient
    >>> from lpfiqa.inference import QualityModel
    >>> from lpfiqa.models import LPFConfig, LPFHeads
    >>> app = create_app(QualityModel(LPFHeads(LPFConfig(latent_dim=16, hidden_dim=32)), name="demo"))
    >>> with TestClient(app) as client:
    ...     client.post("/v1/score", content=b"hello", headers={"Content-Type": "text/plain"}).status_code
    415
"""

from __future__ import annotations

from .app import ENDPOINTS, create_app
from .limits import ServiceConfig
from .server import serve

__all__ = ["ENDPOINTS", "ServiceConfig", "create_app", "serve"]
