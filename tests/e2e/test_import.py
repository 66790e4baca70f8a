"""A township administrator imports staff from Excel in a real browser (issue 4 point 5): the
preview shows the bad row with its row number, column and Chinese reason, nothing is written
until confirm, and confirm writes the good row only."""

import pytest
from playwright.sync_api import expect

from members.models import StaffMember
from tests.core.factories import PASSWORD
from tests.e2e.navigation import menu_link
from tests.members.test_import import staff_xlsx
from tests.world import build_world

LOST_DIGITS = "该单元格被 Excel 转成了科学计数法，位数已丢失，请把该列设为文本格式后重新填写。"


@pytest.mark.django_db(transaction=True)
def test_a_staff_import_with_a_bad_row_previews_then_writes_only_the_good_row(live_server, page, tmp_path):
    mine, _other, users = build_world()
    township_admin = users["institution_admin"]
    upload = staff_xlsx(
        [
            ["E9001", "李华", "女", "医师", "110330100000009", mine.home.code, "02", "2024-03-01"],
            ["E9002", "王芳", "女", "医师", 1.1e17, mine.home.code, "02", "2024-03-01"],
        ]
    )
    path = tmp_path / "职工花名册.xlsx"
    path.write_bytes(upload.read())

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(township_admin.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    menu_link(page, text="Excel 导入").click()
    expect(page.locator("h1")).to_have_text("Excel 导入")
    page.get_by_role("link", name="导入职工").click()
    expect(page.locator("h1")).to_have_text("导入职工")
    page.get_by_label("Excel 文件（.xlsx）").set_input_files(str(path))
    page.get_by_role("button", name="上传并预览").click()

    expect(page.locator("h1")).to_have_text("导入职工（预览）")
    bad_row = page.locator("table.rejected tbody tr")
    expect(bad_row).to_have_count(1)
    expect(bad_row.locator("td")).to_have_text(["3", "执业证书编码", LOST_DIGITS])
    expect(page.locator("table.creates tbody tr")).to_have_count(1)
    expect(page.locator("table.creates")).to_contain_text("李华")
    expect(page.locator(".count-create")).to_have_text("1")
    expect(page.locator(".count-rejected")).to_have_text("1")
    assert not StaffMember.objects.filter(employee_number__in=["E9001", "E9002"]).exists()

    page.get_by_role("button", name="确认导入").click()

    expect(page.get_by_role("status").first).to_have_text("导入完成：新增 1 条，更新 0 条。")
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    written = StaffMember.objects.filter(employee_number__in=["E9001", "E9002"])
    assert [(s.employee_number, s.name, s.institution_id, s.department.code) for s in written] == [
        ("E9001", "李华", mine.home.pk, "02")
    ]


@pytest.mark.django_db(transaction=True)
def test_the_preview_page_follows_a_running_preview_until_it_is_ready(live_server, page, tmp_path):
    """With a real worker the preview runs after the upload: the page shows the progress and
    polls (htmx) until the preview is ready, then shows it without a reload."""
    from core.imports import run_preview, start_preview
    from core.models import Job, JobState
    from members.imports import StaffImport

    mine, _other, users = build_world()
    admin = users["institution_admin"]
    upload = staff_xlsx(
        [["E9003", "赵敏", "女", "医师", "110330100000010", mine.home.code, "02", "2024-03-01"]]
    )
    job = start_preview(StaffImport(), upload, user=admin, target=mine.alliance, enqueue=False)
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, progress=35)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(admin.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto(f"{live_server.url}/people/import/staff/{job.pk}/")

    expect(page.locator(".job-progress")).to_contain_text("35%")
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    Job.objects.filter(pk=job.pk).update(state=JobState.PENDING)
    run_preview(StaffImport(), job.pk)  # the worker finishes

    expect(page.get_by_role("button", name="确认导入")).to_be_visible(timeout=5000)
    expect(page.locator("table.creates")).to_contain_text("赵敏")
    expect(page.locator(".job-progress")).to_have_count(0)
