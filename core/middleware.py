"""A page whose write found the database too busy (core.exceptions.is_busy) answers with a Chinese
message and 503, never a 500: nothing was written, and the user can simply try again."""

from django.template.response import TemplateResponse

from .exceptions import is_busy


class BusyDatabaseMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_busy(exception):
            return None
        response = TemplateResponse(request, "busy.html", status=503)
        response["Retry-After"] = "2"
        return response.render()
