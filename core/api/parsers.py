"""Request parsers with a body-size cap: a body over the limit is 413 before it is read.

Django's DATA_UPLOAD_MAX_MEMORY_SIZE only guards form bodies; DRF reads JSON from the stream,
so the cap is applied here. A view may set `max_body_bytes` (the bulk encounter endpoints do).
"""

import json

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers

from .exceptions import PayloadTooLarge


def check_body_size(parser_context):
    context = parser_context or {}
    request, view = context.get("request"), context.get("view")
    if request is None:
        return
    limit = getattr(view, "max_body_bytes", None) or settings.API_MAX_BODY_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise PayloadTooLarge()


class JSONParser(parsers.JSONParser):
    """JSON in UTF-8 (DESIGN §8), with a Chinese message saying where a body goes wrong: DRF's
    own message is English and quotes Python's decoder."""

    def parse(self, stream, media_type=None, parser_context=None):
        check_body_size(parser_context)
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise exceptions.ParseError(
                _("The request body is not UTF-8 text (byte %(position)d); send JSON encoded as UTF-8.")
                % {"position": error.start + 1}
            ) from error
        try:
            return json.loads(text, parse_constant=_no_constant)
        except ValueError as error:
            line, column = getattr(error, "lineno", 1), getattr(error, "colno", 1)
            raise exceptions.ParseError(
                _(
                    "The request body is not valid JSON (line %(line)d, column %(column)d): check the quotes, commas and brackets."
                )
                % {"line": line, "column": column}
            ) from error


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")  # NaN and Infinity: Python accepts them, JSON does not
