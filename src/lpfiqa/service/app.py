"""The ASGI app: FastAPI routes over :class:`~lpfiqa.service.scoring.Scorer`, the web page and the docs.

Build it with :func:`create_app` and run it under any ASGI server (``lpfiqa serve`` uses uvicorn).
"""

from __future__ import annotations

import contextlib
import sys
import traceback
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from .. import __version__
from ..inference import QualityModel
from .limits import BodyLimitMiddleware, ServiceConfig
from .schemas import UPLOAD_BODY, Health, MapAnswer, ModelAnswer, ScoreAnswer, error_responses
from .scoring import ImageError, Scorer, data_url

__all__ = ["ENDPOINTS", "create_app"]

ENDPOINTS = "GET /healthz, GET /v1/model, POST /v1/score, POST /v1/map (docs: /docs)"
RAW_HINT = "curl --data-binary @photo.jpg -H 'Content-Type: image/jpeg' URL/v1/score"
MULTIPART_HINT = "curl -F file=@a.jpg -F file=@b.png URL/v1/score"
STATIC = Path(str(resources.files("lpfiqa") / "service" / "static"))
_UPLOAD_ERRORS = error_responses(400, 408, 413, 415, 422, 500, 503)
_LEGACY = {"Deprecation": "true"}


def _one_line(text: object, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _printable(text: str, limit: int = 80) -> str:
    return "".join(c if c.isprintable() else "?" for c in text[:limit])


async def _uploads(request: Request, max_files: int) -> tuple[list[tuple[str, bytes]], bool]:
    """The request's images as (filename, bytes) pairs, and whether they came as multipart."""
    media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        try:
            form = await request.form(max_files=max_files, max_fields=max_files)
        except HTTPException as exc:  # python-multipart's parse errors arrive as 400s
            if exc.status_code != 400:
                raise
            raise HTTPException(400, f"malformed multipart body ({_one_line(exc.detail, 120)}); let the client "
                                     f"build it ({MULTIPART_HINT})") from None
        items: list[tuple[str, bytes]] = []
        try:
            for i, (field, value) in enumerate(form.multi_items()):
                if not isinstance(value, UploadFile):
                    raise HTTPException(422, f"multipart field {_printable(field, 40)!r} is not a file; send images "
                                             f"as file fields ({MULTIPART_HINT}) and options in the query string")
                items.append((value.filename or field or f"file{i}", await value.read()))
        finally:
            await form.close()
        if not items:
            raise HTTPException(400, f"multipart body holds no files ({MULTIPART_HINT})")
        return items, True
    if media and not (media.startswith("image/") or media == "application/octet-stream"):
        raise HTTPException(415, f"Content-Type {_printable(media, 60)} is not supported; send image/* or "
                                 f"application/octet-stream bytes ({RAW_HINT}) or multipart/form-data files "
                                 f"({MULTIPART_HINT})")
    body = await request.body()
    if not body:
        raise HTTPException(400, f"empty body; send the image bytes ({RAW_HINT}) or files as multipart/form-data "
                                 f"({MULTIPART_HINT})")
    return [("request body", body)], False


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no endpoint {_printable(request.url.path)}; use {ENDPOINTS}"
        elif exc.status_code == 405:
            allow = (exc.headers or {}).get("Allow", "")
            message = f"{_printable(request.url.path)} takes {allow or 'another method'}, not {request.method}; " \
                      f"use {ENDPOINTS}"
        return JSONResponse({"error": _one_line(message)}, exc.status_code, headers=exc.headers)

    @app.exception_handler(ImageError)
    async def image_error(request: Request, exc: ImageError) -> JSONResponse:
        headers = {"Retry-After": "5"} if exc.status == 503 else None
        return JSONResponse({"error": _one_line(exc.message)}, exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "body"))
        return JSONResponse({"error": _one_line(f"parameter {where!r}: {first.get('msg', 'invalid')}; "
                                                f"see /docs for the accepted values")}, 422)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:  # never a stack trace to a client
        traceback.print_exception(exc, file=sys.stderr)
        return JSONResponse({"error": f"internal error ({type(exc).__name__}); see the server log, and report "
                                      "it if it persists"}, 500)


def _install_pages(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    docs_assets = None
    with contextlib.suppress(ImportError):
        import fastapi_offline

        docs_assets = Path(fastapi_offline.__file__).parent / "static"
        app.mount("/docs-assets", StaticFiles(directory=docs_assets), name="docs-assets")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        if docs_assets is None:
            raise HTTPException(404, "the docs page needs fastapi-offline (pip install 'lpfiqa[serve]'); "
                                     "the schema is at /openapi.json")
        return get_swagger_ui_html(openapi_url="/openapi.json", title="lpfiqa API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon.png")

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        if docs_assets is None:
            raise HTTPException(404, "the docs page needs fastapi-offline (pip install 'lpfiqa[serve]')")
        return get_redoc_html(openapi_url="/openapi.json", title="lpfiqa API", with_google_fonts=False,
                              redoc_js_url="/docs-assets/redoc.standalone.js",
                              redoc_favicon_url="/docs-assets/favicon.png")


def create_app(model: QualityModel, config: ServiceConfig | None = None) -> FastAPI:
    """The scoring service as an ASGI app; the model is loaded by the caller, once, and shared.

    Args:
        model: the model to serve (e.g. from :func:`lpfiqa.create_model`).
        config: limits, pools and timeouts (defaults: :class:`ServiceConfig`).

    Returns:
        A FastAPI app: run it with ``uvicorn`` or ``lpfiqa serve``; ``app.state.scorer`` holds the model.

    Example:
        >>> from fastapi.testclient import TestClient
        >>> from lpfiqa.models import LPFConfig, LPFHeads
        >>> app = create_app(QualityModel(LPFHeads(LPFConfig(latent_dim=16, hidden_dim=32)), name="demo"))
        >>> with TestClient(app) as client:
        ...     client.get("/healthz").json()["status"]
        'ok'
    """
    config = config or ServiceConfig()
    scorer = Scorer(model, config)
    meta = scorer.meta
    info = {**meta, "engine": model.engine, "max_pixels": scorer.max_pixels, "max_body_bytes": config.max_body_bytes,
            "max_files": config.max_files}
    ident = {"model": meta["model"], "model_version": meta["model_version"]}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        scorer.close()

    app = FastAPI(title="lpfiqa", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Blind image quality scores (LPF). The web page is at `/`. Every error is "
                              "`{\"error\": \"one line that says what to do\"}`.")
    app.state.scorer = scorer
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=config.max_body_bytes, body_timeout=config.body_timeout)
    _install_errors(app)
    _install_pages(app)

    @app.get("/healthz", response_model=Health, tags=["service"])
    async def healthz() -> dict[str, Any]:
        """Liveness: the model is loaded and the service answers."""
        return {"status": "ok", **ident}

    @app.get("/v1/model", response_model=ModelAnswer, tags=["service"])
    async def model_info() -> dict[str, Any]:
        """The model's name, version, scale, direction, preprocessing and the service's limits."""
        return info

    async def score_uploads(request: Request, maps: bool) -> tuple[dict[str, Any], bool]:
        items, multi = await _uploads(request, config.max_files)
        results = []
        async with scorer.slot():
            for filename, data in items:
                try:
                    results.append(await scorer.score(data, filename, maps))
                except ImageError as exc:
                    if not multi:
                        raise
                    results.append({"filename": filename, "error": _one_line(exc.message), "status": exc.status})
        return {**ident, "results": results, "failed": sum("error" in r for r in results)}, multi

    @app.post("/v1/score", response_model=ScoreAnswer, response_model_exclude_none=True, tags=["scoring"],
              openapi_extra=UPLOAD_BODY, responses=_UPLOAD_ERRORS)
    async def score(request: Request, maps: bool = Query(False, description="add DaQRN's weight and score maps")
                    ) -> dict[str, Any]:
        """Score one image (the raw body) or many (multipart files, any field name).

        A multipart request answers 200 with a row per file; an unreadable file gets ``error``
        and ``status`` on its row, and the others are still scored.
        """
        return (await score_uploads(request, maps))[0]

    @app.post("/v1/map", response_model=MapAnswer, response_model_exclude_none=True, tags=["scoring"],
              openapi_extra=UPLOAD_BODY, responses={**_UPLOAD_ERRORS, 200: {"content": {"image/png": {}}}})
    async def quality_map(request: Request,
                          format: Literal["json", "png"] = Query("json", description="png: the overlay alone"),
                          map: Literal["weight", "score"] = Query("weight", description="which map, for png"),
                          alpha: float = Query(0.55, ge=0, le=1, description="opacity of the map"),
                          max_side: int = Query(768, ge=32, le=4096, description="longest side of the overlay"),
                          ) -> Any:
        """DaQRN's maps of one image: where the model looks (weight) and what it penalises (score).

        JSON holds both maps (one value per ``map_cell`` pixels) and both PNG overlays as data: URLs;
        ``?format=png&map=score`` answers the overlay alone as image/png.
        """
        items, _ = await _uploads(request, 1)
        filename, data = items[0]
        async with scorer.slot():
            scored = await scorer.run(data, filename, maps=True)
            kinds = (map,) if format == "png" else ("weight", "score")
            pngs = await scorer.overlays(scored, kinds, alpha=alpha, max_side=max_side)
        if format == "png":
            return Response(pngs[map], media_type="image/png")
        return {**ident, **scorer.result(scored, filename, maps=True), "map_cell": model.cfg.cell,
                "overlays": {k: data_url(v) for k, v in pngs.items()}}

    # -- the first release's paths: still answered, in their old shapes, marked deprecated ----------------
    @app.get("/health", deprecated=True, tags=["deprecated"])
    async def health_v0(response: Response) -> dict[str, Any]:
        """Use ``GET /healthz``."""
        response.headers.update({**_LEGACY, "Link": '</healthz>; rel="successor-version"'})
        return {"status": "ok", "model": meta["model"]}

    @app.get("/model", deprecated=True, tags=["deprecated"])
    async def model_v0(response: Response) -> dict[str, Any]:
        """Use ``GET /v1/model``."""
        response.headers.update({**_LEGACY, "Link": '</v1/model>; rel="successor-version"'})
        return info

    @app.post("/score", deprecated=True, tags=["deprecated"], openapi_extra=UPLOAD_BODY, responses=_UPLOAD_ERRORS)
    async def score_v0(request: Request, response: Response, maps: bool = False) -> dict[str, Any]:
        """Use ``POST /v1/score`` (one shape for one image or many)."""
        response.headers.update({**_LEGACY, "Link": '</v1/score>; rel="successor-version"'})
        answer, multi = await score_uploads(request, maps)
        if multi:
            return {"results": answer["results"], "failed": answer["failed"], "model": meta["model"]}
        one = answer["results"][0]
        one.pop("filename")
        return {**one, "model": meta["model"]}

    return app
