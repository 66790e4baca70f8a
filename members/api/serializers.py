"""Serializers of people (DESIGN §8): codes in (institutions, departments), ids out. They shape
and check input; every write goes through `members.services`. Resident ID numbers come in whole
and go out masked; they are never echoed back."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alliance.models import Department, Institution, Placement
from alliance.querysets import today
from core.api.fields import ScopedCodeField, ScopedIdField
from members.choices import ChronicCondition, TeamRole
from members.models import (
    FamilyDoctorTeam,
    Membership,
    Secondment,
    SignedResident,
    StaffMember,
    TeamMembership,
)


class MembershipSerializer(serializers.ModelSerializer):
    """A role of the caller: `alliance` is the alliance itself for alliance roles and the one the
    institution belongs to today for institution roles."""

    alliance = serializers.SerializerMethodField()
    institution_code = serializers.CharField(source="institution.code", read_only=True, allow_null=True)

    class Meta:
        model = Membership
        fields = ["role", "alliance", "institution", "institution_code"]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_alliance(self, membership):
        if membership.alliance_id or membership.institution_id is None:
            return membership.alliance_id
        return self.context["current_alliances"].get(membership.institution_id)


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    memberships = MembershipSerializer(many=True)


# --- Staff -----------------------------------------------------------------------------------------
class DepartmentCodeMixin:
    """Resolve `department` (a code, unique within an institution) against the institution."""

    def resolve_department(self, attrs, institution):
        code = attrs.pop("department", None)
        if not code:
            return None
        department = (
            Department.objects.for_user(self.context["request"].user)
            .filter(institution=institution, code=code.strip())
            .first()
        )
        if department is None:
            raise serializers.ValidationError(
                {"department": _("This institution has no department with code %(code)s.") % {"code": code}}
            )
        return department


class StaffSerializer(serializers.ModelSerializer):
    institution_code = serializers.CharField(source="institution.code", read_only=True)
    department_code = serializers.CharField(source="department.code", read_only=True, allow_null=True)

    class Meta:
        model = StaffMember
        fields = [
            "id", "employee_number", "name", "gender", "profession", "title_level", "title",
            "licence_number", "is_general_practitioner", "active", "alliance", "institution",
            "institution_code", "department", "department_code",
        ]  # fmt: skip
        read_only_fields = fields


class StaffWriteSerializer(DepartmentCodeMixin, serializers.ModelSerializer):
    """Hire (POST: posted to `institution` from `valid_from`) or correct (PATCH) a staff member.
    A change of posting goes through the transfer action, which keeps the history."""

    institution = ScopedCodeField(model=Institution, required=False)
    department = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    valid_from = serializers.DateField(required=False)

    class Meta:
        model = StaffMember
        fields = [
            "employee_number", "name", "gender", "profession", "title_level", "title",
            "licence_number", "is_general_practitioner", "active", "institution", "department",
            "valid_from",
        ]  # fmt: skip
        validators = []

    def validate(self, attrs):
        if self.instance is not None:
            moved = [name for name in ("institution", "department", "valid_from") if name in attrs]
            if moved:
                raise serializers.ValidationError(
                    {moved[0]: _("A new posting goes through the transfer action, which keeps the history.")}
                )
            return attrs
        for name in ("institution", "valid_from"):
            if not attrs.get(name):
                raise serializers.ValidationError({name: _("This field is required.")})
        attrs["department"] = self.resolve_department(attrs, attrs["institution"])
        placement = Placement.objects.filter(institution=attrs["institution"]).on(attrs["valid_from"]).first()
        if placement is None:
            raise serializers.ValidationError(
                {"institution": _("The institution belongs to no alliance on this date.")}
            )
        attrs["alliance"] = placement.alliance
        return attrs

    def to_representation(self, staff):
        """Answered with the row as it reads (ids out)."""
        return StaffSerializer(staff, context=self.context).data


class TransferSerializer(DepartmentCodeMixin, serializers.Serializer):
    institution = ScopedCodeField(model=Institution)
    department = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    on = serializers.DateField()

    def validate(self, attrs):
        attrs["department"] = self.resolve_department(attrs, attrs["institution"])
        return attrs


# --- Secondments -------------------------------------------------------------------------------------
class SecondmentSerializer(serializers.ModelSerializer):
    staff = ScopedIdField(model=StaffMember)
    staff_name = serializers.CharField(source="staff.name", read_only=True)
    from_institution = serializers.IntegerField(source="from_institution_id", read_only=True)
    from_institution_code = serializers.CharField(source="from_institution.code", read_only=True)
    to_institution = ScopedCodeField(model=Institution)
    to_institution_code = serializers.CharField(source="to_institution.code", read_only=True)
    years_reaching_six_months = serializers.SerializerMethodField()

    class Meta:
        model = Secondment
        fields = [
            "id", "staff", "staff_name", "from_institution", "from_institution_code", "to_institution",
            "to_institution_code", "kind", "start_date", "end_date", "notes", "years_reaching_six_months",
        ]  # fmt: skip
        validators = []

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_years_reaching_six_months(self, secondment):
        """The years in which this stationing reached six months (派驻6个月以上)."""
        last = (secondment.end_date or today()).year
        return [
            year
            for year in range(secondment.start_date.year, last + 1)
            if secondment.reaches_six_months(year)
        ]

    def validate(self, attrs):
        if self.instance is not None:
            fixed = [name for name in ("staff", "to_institution") if name in attrs]
            if fixed:
                raise serializers.ValidationError({fixed[0]: _("Record a new secondment instead.")})
        return attrs


# --- Family-doctor teams -------------------------------------------------------------------------------
class TeamMemberSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="staff.name", read_only=True)
    institution = serializers.IntegerField(source="staff.institution_id", read_only=True)

    class Meta:
        model = TeamMembership
        fields = ["staff", "name", "role", "institution", "valid_from", "valid_to"]
        read_only_fields = fields


class TeamSerializer(serializers.ModelSerializer):
    institution = ScopedCodeField(model=Institution)
    institution_code = serializers.CharField(source="institution.code", read_only=True)
    leader = ScopedIdField(model=StaffMember, required=False, allow_null=True)
    members = TeamMemberSerializer(source="current_memberships", many=True, read_only=True)
    member_count = serializers.IntegerField(read_only=True)
    gp_count = serializers.IntegerField(read_only=True)
    specialist_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = FamilyDoctorTeam
        fields = [
            "id", "name", "institution", "institution_code", "leader", "active", "members",
            "member_count", "gp_count", "specialist_count",
        ]  # fmt: skip
        validators = []

    def validate(self, attrs):
        if (
            self.instance is not None
            and attrs.get("institution", self.instance.institution) != self.instance.institution
        ):
            raise serializers.ValidationError(
                {"institution": _("A team cannot move to another institution.")}
            )
        return attrs


class TeamMemberAddSerializer(serializers.Serializer):
    """`add-member`: who, in which role, from which day (default today; a past day records a
    change after it happened)."""

    staff = ScopedIdField(model=StaffMember)
    role = serializers.ChoiceField(choices=TeamRole.choices, required=False)
    valid_from = serializers.DateField(required=False)


class TeamMemberRemoveSerializer(serializers.Serializer):
    """`remove-member`: who leaves, and the day they left (default today)."""

    staff = ScopedIdField(model=StaffMember)
    valid_to = serializers.DateField(required=False)


# --- Signed residents ------------------------------------------------------------------------------------
class ResidentSerializer(serializers.ModelSerializer):
    """A signed resident (签约居民): name and ID number go out masked, the ID number is never
    echoed back; birth date is not shown (the masked ID hides it on purpose)."""

    team = ScopedIdField(model=FamilyDoctorTeam)
    name = serializers.CharField(max_length=50, write_only=True)
    masked_name = serializers.CharField(read_only=True)
    id_number = serializers.CharField(write_only=True, max_length=30)
    id_number_masked = serializers.CharField(read_only=True)
    institution_code = serializers.CharField(source="institution.code", read_only=True)
    chronic_conditions = serializers.ListField(
        child=serializers.ChoiceField(choices=ChronicCondition.choices), required=False
    )

    class Meta:
        model = SignedResident
        fields = [
            "id", "name", "masked_name", "id_number", "id_number_masked", "gender", "team",
            "institution", "institution_code", "chronic_conditions", "signed_on", "valid_to",
        ]  # fmt: skip
        read_only_fields = ["gender", "institution"]
        validators = []

    def validate(self, attrs):
        if self.instance is not None and "id_number" in attrs:
            raise serializers.ValidationError(
                {
                    "id_number": _(
                        "A resident's ID number cannot be changed; end this contract and sign a new one."
                    )
                }
            )
        return attrs


class ResidentLookupSerializer(serializers.Serializer):
    """Find a signed resident by ID number: sent in the body, never in a URL that servers log."""

    id_number = serializers.CharField(max_length=30)
