"""The institutions import (issue 4 point 3): the columns of the file and what each row does.

A new code registers the institution and places it in the alliance chosen on the upload page
(`services.register_member`: both or neither); a known code updates its details
(`services.update_institution`). A change of placement (role, parent, another alliance) is
not an import: it goes through join / move / leave on the institution's page, which keep the
history, so a row asking for one is rejected with that advice.
"""

from django.apps import apps
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import access
from core.excel import CHOICE, CODE, DATE, INTEGER, TEXT, ImportColumn
from core.identity import normalize_resident_id
from core.imports import CREATE, UNCHANGED, UPDATE, Importer, RowPlan, RowRejected

from . import services
from .choices import InstitutionLevel, PlacementRole
from .models import Alliance, Institution, Placement
from .querysets import today

DETAIL_FIELDS = ("name", "level", "credit_code", "region_code", "licensed_beds", "open_beds")
NORMALISED = {"credit_code", "region_code"}
NEEDED_TO_CREATE = ("level", "role", "valid_from")

COLUMNS = (
    ImportColumn(
        "code",
        gettext_lazy("Institution code"),
        CODE,
        required=True,
        aliases=("代码", "机构编码", "code"),
        help=gettext_lazy(
            "The code the institution is registered under (the code its HIS uses). A new code registers a new institution; a known code updates it."
        ),
        example="H3307820101",
    ),
    ImportColumn(
        "name",
        gettext_lazy("Institution name"),
        TEXT,
        required=True,
        aliases=("名称", "单位名称", "name"),
        help=gettext_lazy("The full registered name."),
        example="佛堂镇卫生院",
    ),
    ImportColumn(
        "level",
        gettext_lazy("Hospital level"),
        CHOICE,
        choices=tuple(InstitutionLevel.choices),
        aliases=("级别", "level"),
        help=gettext_lazy("Required for a new institution."),
        example=InstitutionLevel.PRIMARY,
    ),
    ImportColumn(
        "credit_code",
        gettext_lazy("unified social credit code"),
        CODE,
        aliases=("信用代码",),
        help=gettext_lazy("18 characters; leave empty when the institution has none (many village clinics)."),
    ),
    ImportColumn(
        "region_code",
        gettext_lazy("region code"),
        CODE,
        aliases=("区划代码",),
        help=gettext_lazy("Six digits (GB/T 2260); empty: the alliance's county."),
        example="330782",
    ),
    ImportColumn(
        "licensed_beds",
        gettext_lazy("licensed beds"),
        INTEGER,
        aliases=("核定床位",),
        help=gettext_lazy("A whole number; empty: 0 for a new institution, unchanged for a known one."),
        example=60,
    ),
    ImportColumn(
        "open_beds",
        gettext_lazy("open beds"),
        INTEGER,
        aliases=("开放床位",),
        help=gettext_lazy("A whole number; empty: 0 for a new institution, unchanged for a known one."),
        example=55,
    ),
    ImportColumn(
        "role",
        gettext_lazy("Role in the alliance"),
        CHOICE,
        choices=tuple(PlacementRole.choices),
        aliases=("角色", "role"),
        choice_aliases=(
            ("分院", PlacementRole.BRANCH),
            ("乡镇卫生院", PlacementRole.BRANCH),
            ("总院", PlacementRole.LEAD),
        ),
        help=gettext_lazy(
            "Required for a new institution. A known institution keeps its role; a change is made on its page."
        ),
        example=PlacementRole.BRANCH,
    ),
    ImportColumn(
        "parent_code",
        gettext_lazy("Parent institution code"),
        CODE,
        aliases=("上级机构", "上级单位代码"),
        help=gettext_lazy(
            "A village clinic: the code of its township branch; a branch: the lead hospital's code or empty; otherwise empty. The parent may be a row higher up in the same file."
        ),
    ),
    ImportColumn(
        "valid_from",
        gettext_lazy("Joined the alliance on"),
        DATE,
        aliases=("加入日期", "生效日期", "valid from"),
        help=gettext_lazy("Required for a new institution: the first day in the alliance, e.g. 2024-01-01."),
        example="2024-01-01",
    ),
)


def may_use_imports(user):
    """The navigation's 'Excel import': for users who may write institutions or staff. The
    people app is reached by name at call time: the hierarchy never imports it (DESIGN §2)."""
    staff_model = apps.get_model("members", "StaffMember")
    return access.can_write(user, Institution) or access.can_write(user, staff_model)


class InstitutionImport(Importer):
    kind = "import_institutions"
    title = gettext_lazy("Import institutions")
    target_label = gettext_lazy("Alliance")
    template_title = gettext_lazy("Institutions import template")
    url_prefix = "alliance:import_institutions"
    key_field = "code"
    repeat_message = gettext_lazy("This institution code appears earlier in the file (row %(row)d).")
    columns = COLUMNS
    error_fields = {"parent": "parent_code", "on": "valid_from", "institution": "code", "alliance": "role"}
    first_instruction = gettext_lazy(
        "One row per institution. Headers must stay as in this template; extra columns are ignored."
    )

    def may_import(self, user):
        return access.can_write(user, Institution)

    def targets(self, user):
        """The alliances the user may place institutions in."""
        ids = [
            alliance.pk
            for alliance in Alliance.objects.for_user(user)
            if access.can_write(user, Placement, Placement(alliance=alliance))
        ]
        return Alliance.objects.filter(pk__in=ids)

    def plan(self, values, *, user, target, context):
        institution = Institution.objects.filter(code=values["code"]).first()
        details = {name: values[name] for name in DETAIL_FIELDS if values.get(name) not in (None, "")}
        if institution is None:
            _refuse_lost_zeros("code", values["code"])
            return self._plan_create(values, details, user=user, alliance=target)
        return self._plan_update(institution, values, details, user=user, alliance=target)

    def _plan_create(self, values, details, *, user, alliance):
        for name in NEEDED_TO_CREATE:
            if values.get(name) in (None, ""):
                raise RowRejected(name, _("Fill in this column for a new institution."))
        details.setdefault("region_code", alliance.region_code)
        parent = self._parent(values.get("parent_code"))
        return RowPlan(
            CREATE,
            f"{values['code']} {values['name']}",
            apply=lambda: services.register_member(
                alliance=alliance,
                role=values["role"],
                valid_from=values["valid_from"],
                parent=parent,
                acting_user=user,
                code=values["code"],
                **details,
            ),
        )

    def _plan_update(self, institution, values, details, *, user, alliance):
        if not access.can_write(user, Institution, institution):
            raise RowRejected(
                "code", _("This code belongs to an institution you may not change; check the code.")
            )
        self._check_same_place(institution, values, alliance)
        changes = [
            (name, getattr(institution, name), value)
            for name, value in details.items()
            if getattr(institution, name) != (normalize_resident_id(value) if name in NORMALISED else value)
        ]
        if not changes:
            return RowPlan(UNCHANGED, str(institution))
        new_values = {name: new for name, _old, new in changes}
        return RowPlan(
            UPDATE,
            str(institution),
            changes=changes,
            apply=lambda: services.update_institution(institution, acting_user=user, **new_values),
        )

    def _parent(self, code):
        if not code:
            return None
        parent = Institution.objects.filter(code=code).first()
        if parent is None:
            _refuse_lost_zeros("parent_code", code)
            raise RowRejected(
                "parent_code",
                _(
                    "No institution has the code %(code)s. Register the parent first, or put its row higher up in this file."
                )
                % {"code": code},
            )
        return parent

    def _check_same_place(self, institution, values, alliance):
        """An import updates details only; a different alliance, role or parent is a move."""
        place = institution.placements.on(today()).select_related("parent").first()
        if place is None or place.alliance_id != alliance.pk:
            raise RowRejected(
                "code",
                _("This institution is not in %(alliance)s today; it joins or moves on its own page.")
                % {"alliance": alliance},
            )
        parent_code = place.parent.code if place.parent else None
        if values.get("role") and values["role"] != place.role:
            raise RowRejected("role", _("A change of role is a move: make it on the institution's page."))
        if values.get("parent_code") and values["parent_code"] != parent_code:
            raise RowRejected(
                "parent_code",
                _("A change of parent institution is a move: make it on the institution's page."),
            )


def _refuse_lost_zeros(field, code):
    """A .csv saved by Excel turns the code 0101 into 101: a digits-only code that is unknown but
    is a known code without its leading zeros is refused, never registered as a new institution."""
    if not code.isdigit():
        return
    known = [
        candidate
        for candidate in Institution.objects.filter(code__startswith="0", code__endswith=code).values_list(
            "code", flat=True
        )
        if candidate.lstrip("0") == code
    ]
    if known:
        raise RowRejected(
            field,
            _(
                "This looks like institution code %(known)s without its leading zeros (Excel drops them in a number cell and in a .csv); format the column as text and write the code in full."
            )
            % {"known": known[0]},
        )
