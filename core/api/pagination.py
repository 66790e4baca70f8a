"""Page-number pagination of DESIGN §8: `?page=N&page_size=M`, 50 by default, at most 500."""

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
