"""The staff import (issue 4 point 3): the columns of the file and what each row does.

A new employee number in the alliance hires the person (`services.hire_staff`, posted to the
row's institution and department from its date); a known one updates their details
(`services.update_staff`). A posting elsewhere is a transfer with its own history
(`post_staff`, on the staff page), so a row naming another institution or department for a
known employee is rejected with that advice. Each row's institution must be one whose staff
the user may write: an institution administrator imports their own institution's staff only.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alliance.models import Alliance, Department, Placement
from core import access
from core.excel import BOOLEAN, CHOICE, CODE, DATE, TEXT, ImportColumn
from core.imports import CREATE, UNCHANGED, UPDATE, ImportAborted, Importer, RowPlan, RowRejected

from . import services
from .choices import Gender, Profession, TitleLevel
from .models import StaffMember

DETAIL_FIELDS = (
    "name", "gender", "profession", "title_level", "title", "licence_number", "is_general_practitioner",
)  # fmt: skip
NEEDED_TO_HIRE = ("gender", "profession", "valid_from")

COLUMNS = (
    ImportColumn(
        "employee_number",
        gettext_lazy("employee number"),
        CODE,
        required=True,
        aliases=("职工号", "员工编号"),
        help=gettext_lazy(
            "Unique in the alliance. A new number hires a new staff member; a known one updates them."
        ),
        example="E0001",
    ),
    ImportColumn(
        "name", gettext_lazy("Full name"), TEXT, required=True, aliases=("名字", "name"), example="李华"
    ),
    ImportColumn(
        "gender",
        gettext_lazy("gender"),
        CHOICE,
        choices=tuple(Gender.choices),
        help=gettext_lazy("Required for a new staff member."),
        example=Gender.FEMALE,
    ),
    ImportColumn(
        "profession",
        gettext_lazy("profession"),
        CHOICE,
        choices=tuple(Profession.choices),
        aliases=("职业类别", "类别"),
        choice_aliases=(
            ("医生", Profession.DOCTOR),
            ("护士", Profession.NURSE),
            ("医技", Profession.TECHNICIAN),
        ),
        help=gettext_lazy("Required for a new staff member."),
        example=Profession.DOCTOR,
    ),
    ImportColumn(
        "title_level",
        gettext_lazy("title level"),
        CHOICE,
        choices=tuple(TitleLevel.choices),
        aliases=("职称等级",),
        example=TitleLevel.INTERMEDIATE,
    ),
    ImportColumn(
        "title", gettext_lazy("professional title"), TEXT, aliases=("职称名称",), example="主治医师"
    ),
    ImportColumn(
        "licence_number",
        gettext_lazy("practising licence number"),
        CODE,
        aliases=("执业证书编号", "执业证号", "医师执业证书编码"),
        help=gettext_lazy(
            "9 to 30 digits or capital letters. Keep the column formatted as text: Excel turns long numbers into 1.1E+17 and loses digits."
        ),
        example="110330100000001",
    ),
    ImportColumn(
        "is_general_practitioner",
        gettext_lazy("General practitioner (yes/no)"),
        BOOLEAN,
        aliases=("全科医生", "全科", "general practitioner"),
        help=gettext_lazy("是 or 否; empty: 否 for a new staff member, unchanged for a known one."),
        example=False,
    ),
    ImportColumn(
        "institution_code",
        gettext_lazy("Institution code"),
        CODE,
        required=True,
        aliases=("所在机构代码", "机构编码"),
        help=gettext_lazy("The code of the institution the person is posted to."),
        example="H3307820101",
    ),
    ImportColumn(
        "department_code",
        gettext_lazy("Department code"),
        CODE,
        aliases=("科室编码",),
        zero_pad=2,
        help=gettext_lazy(
            "The clinical department code (诊疗科目代码) of a department of that institution, e.g. 03 or 03.01; may be empty."
        ),
        example="03",
    ),
    ImportColumn(
        "valid_from",
        gettext_lazy("Posted from"),
        DATE,
        aliases=("入职日期", "生效日期", "valid from"),
        help=gettext_lazy("Required for a new staff member: the first day of the posting, e.g. 2024-01-01."),
        example="2024-01-01",
    ),
)


class StaffImport(Importer):
    kind = "import_staff"
    title = gettext_lazy("Import staff")
    target_label = gettext_lazy("Employer alliance")
    template_title = gettext_lazy("Staff import template")
    url_prefix = "members:import_staff"
    columns = COLUMNS
    error_fields = {"institution": "institution_code", "department": "department_code", "on": "valid_from"}
    first_instruction = gettext_lazy(
        "One row per staff member. Headers must stay as in this template; extra columns are ignored."
    )

    def may_import(self, user):
        return access.can_write(user, StaffMember)

    def targets(self, user):
        """The alliances today holding an institution whose staff the user may write."""
        writable = access.institutions(user, StaffMember, access.WRITE)
        held = Placement.objects.current().filter(institution__in=writable).values("alliance")
        return Alliance.objects.for_user(user).filter(pk__in=held)

    check_by_applying = False  # each plan checks its row in memory (services.check_hire)
    key_field = "employee_number"
    repeat_message = gettext_lazy("This employee number appears earlier in the file (row %(row)d).")

    def prepare(self, rows, *, user, target):
        """The lookups of every row, loaded once per file: the institutions whose staff the user
        may write (by code), their departments, the alliance's staff by employee number and the
        placements a new posting is checked against."""
        institutions = {
            institution.code: institution
            for institution in access.institutions(user, StaffMember, access.WRITE)
        }
        departments = {
            (department.institution_id, department.code): department
            for department in Department.objects.filter(institution__in=institutions.values())
        }
        numbers = {values["employee_number"] for values in rows}
        staff = {
            member.employee_number: member
            for member in StaffMember.objects.filter(
                alliance=target, employee_number__in=numbers
            ).select_related("institution")
        }
        zero_led = StaffMember.objects.filter(alliance=target, employee_number__startswith="0")
        return {
            # a .csv saved by Excel drops leading zeros: 00123 comes back as 123
            "without_zeros": {n.lstrip("0"): n for n in zero_led.values_list("employee_number", flat=True)},
            "institutions": institutions,
            "departments": departments,
            "staff": staff,
            "placements": services.placements_of(target, institutions.values()),
        }

    def plan(self, values, *, user, target, context):
        number = values["employee_number"]
        institution = self._institution(values["institution_code"], context)
        department = self._department(institution, values.get("department_code"), context)
        staff = context["staff"].get(number)
        details = {name: values[name] for name in DETAIL_FIELDS if values.get(name) not in (None, "")}
        label = f"{number} {values['name']}"
        if staff is None and number in context["without_zeros"]:
            raise RowRejected(
                "employee_number",
                _(
                    "This looks like employee number %(known)s without its leading zeros (Excel drops them when it saves a .csv); format the column as text and write the number in full."
                )
                % {"known": context["without_zeros"][number]},
            )
        if staff is None:
            return self._plan_hire(
                values, details, label, institution, department, alliance=target, context=context
            )
        return self._plan_update(staff, details, label, institution, department, user=user)

    def apply(self, entries, *, user, target, context):
        """The new staff in two bulk inserts (services.hire_staff_many), the updates one by one."""
        hires = [(number, plan.data) for number, plan in entries if plan.action == CREATE]
        try:
            services.hire_staff_many(
                alliance=target, hires=[hire for _number, hire in hires], acting_user=user
            )
        except ValidationError as error:
            raise self.aborted(hires[getattr(error, "index", 0)][0], error) from error
        except IntegrityError as error:  # an employee number saved by someone else meanwhile
            raise ImportAborted(
                _(
                    "A staff member of this file was saved by someone else meanwhile. Nothing was imported; upload the file again."
                )
            ) from error
        super().apply(
            [entry for entry in entries if entry[1].action != CREATE],
            user=user,
            target=target,
            context=context,
        )

    def _institution(self, code, context):
        institution = context["institutions"].get(code)
        if institution is None:
            raise RowRejected(
                "institution_code",
                _("No institution with the code %(code)s whose staff you may manage; check the code.")
                % {"code": code},
            )
        return institution

    def _department(self, institution, code, context):
        if not code:
            return None
        department = context["departments"].get((institution.pk, code))
        if department is None:
            raise RowRejected(
                "department_code",
                _(
                    "%(institution)s has no department with the code %(code)s; check the department codes of the institution."
                )
                % {"institution": institution.name, "code": code},
            )
        return department

    def _plan_hire(self, values, details, label, institution, department, *, alliance, context):
        for name in NEEDED_TO_HIRE:
            if values.get(name) in (None, ""):
                raise RowRejected(name, _("Fill in this column for a new staff member."))
        hire = services.Hire(
            institution=institution,
            department=department,
            valid_from=values["valid_from"],
            employee_number=values["employee_number"],
            **details,
        )
        services.check_hire(alliance, hire, context["placements"])  # the service's own checks
        return RowPlan(CREATE, label, data=hire)

    def _plan_update(self, staff, details, label, institution, department, *, user):
        if not access.can_write(user, StaffMember, staff):
            raise RowRejected(
                "employee_number",
                _("This employee number belongs to a staff member of an institution you may not manage."),
            )
        if staff.institution_id != institution.pk or (department and staff.department_id != department.pk):
            raise RowRejected(
                "institution_code",
                _("This staff member is posted elsewhere; a transfer is made on the staff member's page."),
            )
        changes = [
            (name, getattr(staff, name), value)
            for name, value in details.items()
            if getattr(staff, name) != value
        ]
        if not changes:
            return RowPlan(UNCHANGED, label)
        new_values = {name: new for name, _old, new in changes}
        services.check_staff_update(staff, new_values)  # the service's own checks, in memory
        return RowPlan(
            UPDATE,
            label,
            changes=changes,
            apply=lambda: services.update_staff(staff, acting_user=user, **new_values),
        )
