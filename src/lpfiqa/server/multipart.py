"""Parsing a ``multipart/form-data`` upload into its file parts (standard library :mod:`email`)."""

from __future__ import annotations

import email.parser
import email.policy
from email.message import EmailMessage
from http import HTTPStatus

from ._http import MULTIPART_HINT, _HTTPError, _printable


def file_parts(content_type: str, body: bytes, max_files: int) -> list[EmailMessage]:
    """The parts of a ``multipart/form-data`` body, each to be scored as one image file.

    Args:
        content_type: The request's ``Content-Type`` header, boundary included.
        body: The request body.
        max_files: The most parts one request may hold.

    Returns:
        The parts, in order; at least one.

    Raises:
        _HTTPError: 400 for a malformed body, a text field or no parts; 413 for more than
            ``max_files`` parts.

    Example:
        >>> body = (b'--b\\r\\nContent-Disposition: form-data; name="file"; filename="a.jpg"\\r\\n'
        ...         b'Content-Type: image/jpeg\\r\\n\\r\\nJPEG\\r\\n--b--\\r\\n')
        >>> parts = file_parts("multipart/form-data; boundary=b", body, max_files=4)
        >>> [part_filename(p, i) for i, p in enumerate(parts)], parts[0].get_payload(decode=True)
        (['a.jpg'], b'JPEG')
    """
    header = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
    if not msg.is_multipart() or msg.defects:
        defects = ", ".join(type(d).__name__ for d in msg.defects) or "no parts"
        raise _HTTPError(HTTPStatus.BAD_REQUEST, f"malformed multipart body ({defects}); let the client "
                         f"build it ({MULTIPART_HINT})")
    parts = list(msg.iter_parts())
    for part in parts:
        if part.get_filename() is None and part.get_content_maintype() == "text":
            field = part.get_param("name", header="content-disposition") or "?"
            raise _HTTPError(HTTPStatus.BAD_REQUEST,
                             f"multipart field {_printable(str(field), 40)!r} is not a file; send "
                             f"images as file fields ({MULTIPART_HINT}) and options in the query "
                             "string (?maps=1)")
    if not parts:
        raise _HTTPError(HTTPStatus.BAD_REQUEST, f"multipart body holds no files ({MULTIPART_HINT})")
    if len(parts) > max_files:
        raise _HTTPError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                         f"{len(parts)} files in one request; send at most "
                         f"{max_files} per request")
    return parts


def part_filename(part: EmailMessage, index: int) -> str:
    """The name answers give a part: its filename, else its field name, else ``file<index>``."""
    field = part.get_param("name", header="content-disposition")
    return str(part.get_filename() or field or f"file{index}")
