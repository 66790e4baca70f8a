"""The header's menus in a browser (issue 15 point 5): a link sits in its task's drop-down."""


def menu_link(page, href=None, *, text=None):
    """The header's link to `href` (or with the text `text`), its group's menu opened."""
    nav = page.get_by_role("navigation", name="主导航")
    inner = page.locator(f'a[href="{href}"]') if href else page.locator("a", has_text=text)
    group = nav.locator("details.nav-group", has=inner)
    if group.count() and not group.evaluate("element => element.open"):
        group.locator("summary").click()
    return nav.locator(f'a[href="{href}"]') if href else nav.locator("a", has_text=text)
