"""The institutions import (issue 4 point 3): a new code registers and places the institution
(alliance.services.register_member), a known code updates its details (update_institution);
a change of placement is refused with advice; preview writes nothing; the pages, the landing
page and the navigation entry."""

import datetime
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from alliance.choices import PlacementRole
from alliance.imports import InstitutionImport
from alliance.models import Institution, Placement
from core.imports import confirm_import, preview_import
from core.models import Job, JobState
from tests.alliance.factories import InstitutionFactory, place, placement_of

pytestmark = pytest.mark.django_db

IMPORTER = InstitutionImport()
HEADERS = [
    "机构代码",
    "机构名称",
    "医院级别",
    "编制床位",
    "实际开放床位",
    "角色",
    "上级机构代码",
    "加入医共体日期",
]
JOINED = datetime.date(2024, 3, 1)


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def institutions_xlsx(rows, headers=HEADERS):
    workbook = Workbook()
    workbook.active.append(headers)
    for row in rows:
        workbook.active.append(row)
    buffer = BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("机构.xlsx", buffer.getvalue())


def rejected(job):
    return [(entry["row"], entry["column"], entry["message"]) for entry in job.result["rejected"]]


def test_a_new_branch_and_its_village_clinic_in_one_file_are_previewed_then_created(world):
    mine, _other, users = world
    rows = [
        ["H7001", "赤岸镇卫生院", "一级", 40, 35, "分院", None, "2024/3/1"],
        ["H7002", "赤岸村卫生室", "一级", None, None, "村卫生室", "H7001", "2024年3月1日"],
    ]
    before = (Institution.objects.count(), Placement.objects.count())

    job = preview_import(IMPORTER, institutions_xlsx(rows), user=users["bureau"], target=mine.alliance)

    assert (Institution.objects.count(), Placement.objects.count()) == before
    assert job.result["counts"] == {"create": 2, "update": 0, "unchanged": 0, "rejected": 0}
    assert job.result["rows"][1]["cells"] == [
        "H7002",
        "赤岸村卫生室",
        "一级",
        "",
        "",
        "村卫生室",
        "H7001",
        "2024-03-01",
    ]

    confirm_import(IMPORTER, job.pk, user=users["bureau"])

    branch, village = Institution.objects.get(code="H7001"), Institution.objects.get(code="H7002")
    assert (branch.licensed_beds, branch.open_beds, branch.region_code) == (40, 35, mine.alliance.region_code)
    branch_place, village_place = placement_of(branch, JOINED), placement_of(village, JOINED)
    assert (branch_place.alliance, branch_place.role, branch_place.valid_from) == (
        mine.alliance,
        "branch",
        JOINED,
    )
    assert (village_place.role, village_place.parent) == (PlacementRole.VILLAGE, branch)


def test_a_known_code_updates_the_details_and_shows_what_changes(world):
    mine, _other, users = world
    home = mine.home
    rows = [[home.code, home.name, "一级", 80, home.open_beds, "分院（乡镇卫生院）", None, None]]

    job = preview_import(
        IMPORTER, institutions_xlsx(rows), user=users["alliance_admin"], target=mine.alliance
    )

    assert job.result["rows"][0]["action"] == "update"
    assert job.result["rows"][0]["changes"] == [["编制床位", str(home.licensed_beds), "80"]]
    home.refresh_from_db()
    assert home.licensed_beds == 50

    confirm_import(IMPORTER, job.pk, user=users["alliance_admin"])

    home.refresh_from_db()
    assert home.licensed_beds == 80


def test_a_change_of_role_for_a_known_institution_is_refused_with_advice(world):
    mine, _other, users = world
    rows = [[mine.home.code, mine.home.name, "一级", None, None, "协同医院", None, None]]

    job = preview_import(IMPORTER, institutions_xlsx(rows), user=users["bureau"], target=mine.alliance)

    assert rejected(job) == [(2, "角色", "变更角色属于隶属关系调整，请在机构页面办理。")]


def test_a_new_institution_without_level_role_or_date_is_rejected(world):
    mine, _other, users = world
    rows = [["H7001", "赤岸镇卫生院", "一级", None, None, "分院", None, None]]

    job = preview_import(IMPORTER, institutions_xlsx(rows), user=users["bureau"], target=mine.alliance)

    assert rejected(job) == [(2, "加入医共体日期", "新机构必须填写此列。")]


def test_an_unknown_parent_code_is_rejected_with_how_to_fix_it(world):
    mine, _other, users = world
    rows = [["H7002", "赤岸村卫生室", "一级", None, None, "村卫生室", "H9999", "2024-03-01"]]

    job = preview_import(IMPORTER, institutions_xlsx(rows), user=users["bureau"], target=mine.alliance)

    assert rejected(job) == [
        (2, "上级机构代码", "没有代码为 H9999 的机构。请先登记上级机构，或把它的行放在本文件中更靠前的位置。")
    ]


def test_codes_that_lost_their_leading_zeros_are_refused_not_registered(client, world):
    """0301 typed into a number cell is 301 when Excel saves it: as a parent it is named, as a
    new institution's code it is refused rather than registered a second time."""
    mine, _other, users = world
    branch = InstitutionFactory(code="0301", name="佛堂镇卫生院")
    place(branch, mine.alliance, PlacementRole.BRANCH, parent=mine.lead)
    rows = [
        ["H7003", "岩口村卫生室", "一级", None, None, "村卫生室", 301, "2024-03-01"],
        [301, "佛堂镇卫生院", "一级", 40, 35, "分院", None, "2024-03-01"],
    ]
    client.force_login(users["bureau"])

    with TestCase.captureOnCommitCallbacks(execute=True):  # the preview task
        client.post(
            reverse("alliance:import_institutions"),
            {"target": mine.alliance.pk, "file": institutions_xlsx(rows)},
        )

    job = Job.objects.get(kind="import_institutions")
    advice = "这像是去掉了开头的 0 的机构代码 0301（Excel 会去掉数字单元格和 .csv 中开头的 0）；请把该列设为文本格式并填写完整的代码。"
    assert rejected(job) == [(2, "上级机构代码", advice), (3, "机构代码", advice)]
    assert not Institution.objects.filter(code__in=["301", "H7003"]).exists()


def test_the_services_placement_rules_come_back_on_the_parent_column(world):
    mine, _other, users = world
    rows = [["H7002", "赤岸村卫生室", "一级", None, None, "村卫生室", None, "2024-03-01"]]

    job = preview_import(IMPORTER, institutions_xlsx(rows), user=users["bureau"], target=mine.alliance)

    assert rejected(job) == [(2, "上级机构代码", "村卫生室必须隶属于一个乡镇分院。")]
    assert not Institution.objects.filter(code="H7002").exists()


def test_an_institution_of_another_county_is_rejected_not_changed(world):
    mine, other, users = world
    theirs = other.home
    rows = [[theirs.code, "改名卫生院", "一级", None, None, None, None, None]]

    job = preview_import(IMPORTER, institutions_xlsx(rows), user=users["bureau"], target=mine.alliance)

    assert rejected(job) == [(2, "机构代码", "该代码属于您无权修改的机构，请核对代码。")]
    confirm_import(IMPORTER, job.pk, user=users["bureau"])
    theirs.refresh_from_db()
    assert theirs.name != "改名卫生院"


def test_the_alliance_choices_are_those_the_user_places_institutions_in(world):
    mine, _other, users = world

    assert list(IMPORTER.targets(users["bureau"])) == [mine.alliance]
    assert list(IMPORTER.targets(users["alliance_admin"])) == [mine.alliance]
    assert list(IMPORTER.targets(users["institution_admin"])) == []


def test_confirming_twice_registers_once(world):
    mine, _other, users = world
    rows = [["H7001", "赤岸镇卫生院", "一级", 40, 35, "分院", None, "2024-03-01"]]
    job = preview_import(IMPORTER, institutions_xlsx(rows), user=users["bureau"], target=mine.alliance)

    assert confirm_import(IMPORTER, job.pk, user=users["bureau"]).state == JobState.SUCCEEDED
    assert confirm_import(IMPORTER, job.pk, user=users["bureau"]) is None
    assert Institution.objects.filter(code="H7001").count() == 1
    assert Placement.objects.filter(institution__code="H7001").count() == 1


# --- Pages -------------------------------------------------------------------------------------
def test_upload_preview_confirm_through_the_pages(client, world):
    mine, _other, users = world
    client.force_login(users["bureau"])
    rows = [
        ["H7001", "赤岸镇卫生院", "一级", 40, 35, "分院", None, "2024-03-01"],
        ["H7002", "坏行", "五级", None, None, "分院", None, "2024-03-01"],
    ]

    with TestCase.captureOnCommitCallbacks(execute=True):  # the preview task
        response = client.post(
            reverse("alliance:import_institutions"),
            {"target": mine.alliance.pk, "file": institutions_xlsx(rows)},
        )

    job = Job.objects.get(kind="import_institutions")
    html = client.get(response["Location"]).content.decode()
    assert "<tr><td>3</td><td>医院级别</td><td>“五级”不是允许的值，可填：一级、二级、三级。</td></tr>" in html
    assert not Institution.objects.filter(code__in=["H7001", "H7002"]).exists()
    client.post(reverse("alliance:import_institutions_confirm", args=[job.pk]))
    assert list(Institution.objects.filter(code__in=["H7001", "H7002"]).values_list("code", flat=True)) == [
        "H7001"
    ]


@pytest.mark.parametrize("role", ["committee", "clinician", "institution_admin", "finance"])
def test_roles_that_may_not_write_institutions_get_403(client, world, role):
    _mine, _other, users = world
    client.force_login(users[role])

    assert client.get(reverse("alliance:import_institutions")).status_code == 403
    assert client.get(reverse("alliance:import_institutions_template")).status_code == 403


@pytest.mark.parametrize(
    ("role", "imports"),
    [
        ("bureau", ["导入成员单位"]),
        ("alliance_admin", ["导入成员单位", "导入职工"]),
        ("institution_admin", ["导入职工"]),
    ],
)
def test_the_landing_page_lists_the_imports_each_role_may_use(client, world, role, imports):
    _mine, _other, users = world
    client.force_login(users[role])

    html = client.get(reverse("alliance:import")).content.decode()

    shown = [title for title in ["导入成员单位", "导入职工"] if title in html]
    assert shown == imports
    assert "<h1>Excel 导入</h1>" in html


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("bureau", True),
        ("alliance_admin", True),
        ("institution_admin", True),
        ("committee", False),
        ("clinician", False),
    ],
)
def test_the_navigation_shows_excel_import_to_those_who_may_write(client, world, role, visible):
    _mine, _other, users = world
    client.force_login(users[role])

    html = client.get("/").content.decode()

    assert (f'href="{reverse("alliance:import")}"' in html) is visible
    if not visible:
        assert client.get(reverse("alliance:import")).status_code == 403


def test_the_template_lists_the_roles_and_keeps_codes_as_text(client, world):
    _mine, _other, users = world
    client.force_login(users["bureau"])

    response = client.get(reverse("alliance:import_institutions_template"))

    workbook = load_workbook(BytesIO(response.content))
    sheet, instructions = workbook.worksheets
    headers = [cell.value for cell in sheet[1]]
    assert headers[:2] == ["机构代码", "机构名称"] and "角色" in headers and "上级机构代码" in headers
    assert {cell.column_letter for cell in sheet[2] if cell.number_format == "@"} == {"A", "D", "E", "I"}
    assert sheet.column_dimensions["A"].number_format == "@"
    role_row = next(row for row in instructions.iter_rows(values_only=True) if row[0] == "角色")
    assert role_row[3] == "牵头医院、协同医院、分院（乡镇卫生院）、村卫生室、协作单位"
