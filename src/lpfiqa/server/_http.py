"""What the handler and the multipart parser of :mod:`lpfiqa.server` share: error answers and safe text."""

from __future__ import annotations

ENDPOINTS = "GET /health, GET /model or POST /score"
RAW_HINT = "curl --data-binary @photo.jpg -H 'Content-Type: image/jpeg' URL/score"
MULTIPART_HINT = "curl -F file=@a.jpg -F file=@b.png URL/score"


class _HTTPError(Exception):
    """An answer other than 200: status, one-line message, extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _printable(text: str, limit: int = 200) -> str:
    """Request data for the log: no control characters (no forged log lines), bounded length."""
    clean = "".join(c if c.isprintable() else "?" for c in text[:limit])
    return clean + ("..." if len(text) > limit else "")
