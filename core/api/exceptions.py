"""One exception handler for the whole API: every error is `{"code", "message", "errors"}`.

Django's ValidationError (raised by services) → 400; core.Conflict → 409; a request body over the
limit → 413; the database too busy to take the write (core.exceptions.is_busy) → 503 `busy`; DRF's own exceptions keep their status and get the same envelope. Codes are listed
in docs/api.md.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import Conflict, is_busy


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"

    def __init__(self, detail=None):
        super().__init__(detail or _("The request body is too large."))


class Busy(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "busy"

    def __init__(self):
        super().__init__(
            _("The system is busy saving other changes; nothing was saved. Try again in a moment.")
        )


def exception_handler(exc, context):
    if is_busy(exc):
        response = exception_handler(Busy(), context)
        response["Retry-After"] = "2"
        return response
    if isinstance(exc, Conflict):
        return Response(
            {"code": exc.code, "message": exc.message, "errors": {}}, status=status.HTTP_409_CONFLICT
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=as_serializer_error(exc))
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    response.data = _envelope(exc)
    return response


def _envelope(exc):
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        message = _first_message(detail) or _("The submitted data is invalid.")
        return {"code": "invalid", "message": message, "errors": detail}
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    return {"code": code, "message": str(exc.detail), "errors": {}}


def _first_message(detail):
    """The first message of a nested error structure, shown as the headline."""
    if isinstance(detail, dict):
        for value in detail.values():
            found = _first_message(value)
            if found:
                return found
        return None
    if isinstance(detail, list):
        for value in detail:
            found = _first_message(value)
            if found:
                return found
        return None
    return str(detail)
