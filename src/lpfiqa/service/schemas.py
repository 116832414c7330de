"""The JSON shapes of the service's answers (pydantic models: they make the OpenAPI schema)."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["ErrorAnswer", "Health", "ImageResult", "MapAnswer", "ModelAnswer", "ScoreAnswer", "UPLOAD_BODY",
           "error_responses"]


class ErrorAnswer(BaseModel):
    """Every 4xx/5xx answer: one line that says what is wrong and what to do."""

    error: str = Field(examples=["Content-Type text/plain is not supported; send image/* bytes or multipart files"])


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    model: str
    model_version: str


class ModelAnswer(BaseModel):
    model: str
    model_version: str = Field(description="sha256 of the trained weights (12 hex digits)")
    lpfiqa_version: str
    score_name: str
    score_range: list[float]
    higher_is_better: bool
    direction: str
    stages: list[str]
    map_cell: int = Field(description="pixels per map value, each way")
    min_side: int
    diagnosis_families: list[str]
    preprocessing: str
    engine: str = Field("torch", description="what runs the model: torch (PyTorch) or onnx (ONNX Runtime)")
    max_pixels: int
    max_body_bytes: int
    max_files: int


class ImageResult(BaseModel):
    """One image: its score (and diagnosis, maps), or the reason there is none."""

    filename: str
    score: float | None = None
    width: int | None = None
    height: int | None = None
    diagnosis: dict[str, float] | None = Field(None, description="family -> probability (models with a diagnosis "
                                                                  "head)")
    top_family: str | None = None
    weight_map: list[list[float]] | None = None
    score_map: list[list[float]] | None = None
    error: str | None = None
    status: int | None = Field(None, description="the HTTP status this image alone would have had")


class ScoreAnswer(BaseModel):
    model: str
    model_version: str
    results: list[ImageResult]
    failed: int


class MapAnswer(ImageResult):
    model: str
    model_version: str
    map_cell: int
    overlays: dict[str, str] = Field(description="map kind (weight, score) -> PNG overlay as a data: URL")


_BINARY = {"schema": {"type": "string", "format": "binary"}}
UPLOAD_BODY = {"requestBody": {"required": True, "description": "one image as the raw body, or image files as "
                                                                "multipart/form-data", "content": {
    "image/jpeg": _BINARY, "image/png": _BINARY, "application/octet-stream": _BINARY,
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}}}


def error_responses(*codes: int) -> dict[int | str, dict]:
    """OpenAPI ``responses`` entries for these error statuses (all :class:`ErrorAnswer`)."""
    text = {400: "malformed request", 405: "wrong method", 408: "body too slow", 413: "body or image too large",
            415: "not an image, or an unsupported Content-Type", 422: "bad parameters or an unreadable image",
            500: "internal error", 503: "busy"}
    return {code: {"model": ErrorAnswer, "description": text.get(code, "error")} for code in codes}
