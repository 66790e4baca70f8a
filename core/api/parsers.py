"""Request parsers with a body-size cap: a body over the limit is 413 before it is read.

Django's DATA_UPLOAD_MAX_MEMORY_SIZE only guards form bodies; DRF reads JSON from the stream,
so the cap is applied here. A view may set `max_body_bytes` (the bulk encounter endpoints do).
"""

from django.conf import settings
from rest_framework import parsers

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
    def parse(self, stream, media_type=None, parser_context=None):
        check_body_size(parser_context)
        return super().parse(stream, media_type, parser_context)
