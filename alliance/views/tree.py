"""The alliance as a tree on any date (issue 4 point 1): county → alliance → lead, collaborating,
partner and branch institutions → village clinics, with beds and staff per node, the branches'
roll-ups and the changes of the year before the date highlighted.

A constant number of queries whatever the county's size: the user's alliances, the nodes of
the chosen one (`PlacementQuerySet.tree_rows`, one GROUP BY) and its changes of the year; the
tree is assembled from those rows in one pass in Python.
"""

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth.mixins import LoginRequiredMixin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from ..choices import PlacementRole
from ..forms import TreeForm
from ..models import Alliance, Institution, Placement

YEAR = datetime.timedelta(days=365)
# Order of the institutions directly under the alliance.
ROOT_ORDER = {
    PlacementRole.LEAD: 0,
    PlacementRole.COLLABORATING: 1,
    PlacementRole.BRANCH: 2,
    PlacementRole.PARTNER: 3,
    PlacementRole.VILLAGE: 4,
}
JOINED, MOVED, LEFT = _("newly joined"), _("moved"), _("left the alliance")


@dataclass
class Change:
    """A change of the year before the date: `label` (joined / changed / left) on `date`."""

    label: str
    date: datetime.date
    before: str = ""  # where a moved institution was: its former parent or role


@dataclass
class Node:
    """One institution in the tree, with its own figures and those of its whole subtree."""

    row: dict
    children: list = field(default_factory=list)
    change: Change | None = None
    villages: int = 0
    total_staff: int = 0
    total_licensed_beds: int = 0
    total_open_beds: int = 0

    @property
    def role_label(self):
        return PlacementRole(self.row["role"]).label

    @property
    def url(self):
        return reverse("alliance:institution-detail", args=[self.row["institution_id"]])

    def roll_up(self):
        """Add up staff, beds and village clinics of this node and everything under it."""
        self.total_staff = self.row["staff"]
        self.total_licensed_beds = self.row["institution__licensed_beds"]
        self.total_open_beds = self.row["institution__open_beds"]
        for child in self.children:
            child.roll_up()
            self.villages += child.villages + (child.row["role"] == PlacementRole.VILLAGE)
            self.total_staff += child.total_staff
            self.total_licensed_beds += child.total_licensed_beds
            self.total_open_beds += child.total_open_beds


def build_tree(rows, changes):
    """The root nodes (institutions without a parent in the tree), each with its children."""
    nodes = {row["institution_id"]: Node(row, change=changes.get(row["pk"])) for row in rows}
    roots = []
    for node in nodes.values():
        parent = nodes.get(node.row["parent_id"])
        (parent.children if parent else roots).append(node)
    roots.sort(key=lambda node: (ROOT_ORDER[node.row["role"]], node.row["institution__code"]))
    for node in roots:
        node.roll_up()
    return roots


def year_changes(placements, as_of):
    """From the placements that began or ended in the year before `as_of`: the change of each
    placement in force (by its pk: joined, or moved when another period ended that day) and the
    institutions that left (a period ended and none began that day)."""
    window_start = as_of - YEAR + datetime.timedelta(days=1)
    ended = {(place.institution_id, place.valid_to): place for place in placements if place.valid_to}
    began = {(place.institution_id, place.valid_from) for place in placements}
    in_force, left = {}, []
    for place in placements:
        if place.valid_from >= window_start and place.covers(as_of):
            before = ended.get((place.institution_id, place.valid_from))
            label = MOVED if before else JOINED
            in_force[place.pk] = Change(label, place.valid_from, _where(before))
        elif _left_within(place, window_start, as_of, began):
            left.append((place, Change(LEFT, place.valid_to)))
    return in_force, left


def _left_within(place, window_start, as_of, began):
    ended_within = place.valid_to is not None and window_start <= place.valid_to <= as_of
    return ended_within and (place.institution_id, place.valid_to) not in began


def _where(placement):
    if placement is None:
        return ""
    return placement.parent.name if placement.parent_id else placement.get_role_display()


class TreeView(LoginRequiredMixin, TemplateView):
    """`/alliance/tree/?as_of=YYYY-MM-DD&alliance=<id>`; htmx requests get the tree alone."""

    template_name = "alliance/institution_tree.html"

    def get_template_names(self):
        return ["alliance/_tree.html"] if self.request.htmx else [self.template_name]

    def get_context_data(self, **kwargs):
        user = self.request.user
        alliances = list(Alliance.objects.for_user(user))
        form = TreeForm(self.request.GET or None, alliances=alliances)
        as_of, alliance = form.chosen(alliances)
        context = super().get_context_data(form=form, as_of=as_of, alliance=alliance, **kwargs)
        if alliance is None:
            return context
        visible = Institution.objects.for_user(user)
        placements = Placement.objects.filter(alliance=alliance, institution__in=visible)
        rows = list(placements.tree_rows(as_of))
        window = placements.changed_within(as_of - YEAR + datetime.timedelta(days=1), as_of)
        changes, left = year_changes(list(window.select_related("institution", "parent")), as_of)
        context.update(roots=build_tree(rows, changes), left=left, totals=_totals(rows))
        if not form.is_bound:
            context["form"] = TreeForm(initial={"as_of": as_of, "alliance": alliance.pk}, alliances=alliances)
        return context


def _totals(rows):
    """The alliance's figures on the date: members by role, staff and beds."""
    by_role = Counter(row["role"] for row in rows)
    return {
        "members": len(rows),
        "by_role": [(role.label, by_role[role]) for role in PlacementRole if by_role[role]],
        "staff": sum(row["staff"] for row in rows),
        "licensed_beds": sum(row["institution__licensed_beds"] for row in rows),
        "open_beds": sum(row["institution__open_beds"] for row in rows),
    }
