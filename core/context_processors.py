"""Template context shared by every page."""

from . import navigation


def navigation_items(request):
    return {"navigation": navigation.items_for(request.user)}
