"""Template context shared by every page."""

from . import navigation, notifications


def navigation_items(request):
    """The menu and, for a signed-in user, the unread count shown next to their name (issue 6.5).

    Registered once in settings; the count costs one indexed COUNT query per page, none for
    anonymous visitors.
    """
    menu = navigation.menu_for(request.user)  # each entry's visibility asked once per page
    context = {"navigation_menu": menu, "navigation": navigation.links_of(menu)}
    if request.user.is_authenticated:
        context["unread_notifications"] = notifications.unread_count(request.user)
    return context
