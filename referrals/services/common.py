"""What every referral service shares: who may act for an institution, and its place that day."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from alliance.models import Placement
from core import access

from ..models import Referral


def ensure_acts_for(acting_user, institution, model=Referral):
    """PermissionDenied unless `acting_user` may write `model` rows of `institution` (None: the
    system, e.g. the expiry task or the demo seed). The policy decides, guardian grants included."""
    if acting_user is None:
        return
    row = model(from_institution=institution, to_institution=institution) if model is Referral else None
    row = row or model(institution=institution)
    if not access.can_write(acting_user, model, row):
        raise PermissionDenied(_("Your role may not do this for this institution."))


def placement_on(institution, day):
    return Placement.objects.on(day).filter(institution=institution).select_related("alliance").first()


def placements_on(day, *institutions):
    """`{institution id: its placement on day}` in one query (an institution's periods never
    overlap), each with its alliance and the alliance's referral settings (None when unset)."""
    placements = Placement.objects.on(day).filter(institution__in=institutions)
    return {p.institution_id: p for p in placements.select_related("alliance__referral_settings")}
