"""The national catalogue workbook's import (issue 16 point 2) through the one engine: the
insurance layout's headers, a preview of new / changed (field by field) / unchanged / rejected
rows with their reasons, then apply, which keeps the price history."""

import datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import Workbook

from alliance.querysets import today
from core.imports import confirm_import, preview_import
from pharmacy.imports import DrugCatalogueImport
from pharmacy.models import DrugCatalogueEntry, DrugPrice
from tests.pharmacy.factories import WESTERN, drug, western

pytestmark = pytest.mark.django_db

IMPORTER = DrugCatalogueImport()
# The national workbook's own headers, and the alliance's price columns.
HEADERS = ["药品代码", "注册名称", "商品名称", "剂型", "规格", "最小包装数量", "最小制剂单位", "最小包装单位",
           "生产企业", "批准文号", "药品本位码", "甲乙类", "基本药物", "基药版本", "统一采购价", "统一零售价",
           "价格生效日期"]  # fmt: skip


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def workbook(rows):
    book = Workbook()
    book.active.append(HEADERS)
    for row in rows:
        book.active.append(row)
    buffer = BytesIO()
    book.save(buffer)
    return SimpleUploadedFile("国家医保药品目录.xlsx", buffer.getvalue())


def line(
    code,
    name="阿莫西林胶囊",
    *,
    trade="阿莫仙",
    retail="12.50",
    purchase="10.80",
    start="2026-01-01",
    **changes,
):
    values = {
        "code": code, "name": name, "trade": trade, "form": "胶囊剂", "spec": "0.25g", "qty": 24, "unit": "粒",
        "pack": "盒", "maker": "珠海联邦制药股份有限公司", "approval": "国药准字H44021351",
        "standard": "86900234000017", "class": "甲", "essential": "是", "edition": "2018",
        "purchase": purchase, "retail": retail, "start": start,
    } | changes  # fmt: skip
    return list(values.values())


def test_the_preview_counts_new_changed_unchanged_and_rejected_rows_then_apply_keeps_the_prices(world):
    mine, _other, users = world
    office = users["alliance_admin"]
    same = drug(mine.alliance, western(1))
    renamed = drug(mine.alliance, western(2))
    repriced = drug(mine.alliance, western(3))
    day = today().isoformat()
    upload = workbook([
        line(western(1)),  # unchanged
        line(western(2), trade="阿莫灵"),  # a field changed
        line(western(3), retail="11.00", purchase="9.60", start=day),  # a price change from today
        line("XC08CAN051A001010100009", "硝苯地平片", trade="", spec="10mg", unit="片", pack="瓶"),  # new
        line("X123", "坏编码"),  # a bad code
        line("XC08CAN051A001010100009", "硝苯地平片", trade=""),  # repeated in the file
        line(western(4), retail="十二元"),  # a price that is not a number
        line(western(5), standard="123"),  # a bad standard code
        line(western(3), start="2026-02-01", retail="8.00"),  # repeated too
    ])  # fmt: skip

    job = preview_import(IMPORTER, upload, user=office, target=mine.alliance)

    counts = job.result["counts"]
    assert (counts["create"], counts["update"], counts["unchanged"], counts["rejected"]) == (1, 2, 1, 5)
    rejected = {(e["row"], e["column"]): e["message"] for e in job.result["rejected"]}
    assert "医保药品编码" in rejected[6, "药品代码"]
    assert "第 5 行" in rejected[7, "药品代码"]
    assert "数字" in rejected[8, "统一零售价"]
    assert "本位码" in rejected[9, "药品本位码"]
    updates = {e["label"].split()[0]: e for e in job.result["rows"] if e["action"] == "update"}
    assert [c[0] for c in updates[western(2)]["changes"]] == ["商品名称"]
    assert {c[0] for c in updates[western(3)]["changes"]} == {"统一采购价", "统一零售价"}
    assert DrugCatalogueEntry.objects.filter(alliance=mine.alliance).count() == 3  # nothing written yet

    done = confirm_import(IMPORTER, job.pk, user=office)

    assert done.state == "succeeded"
    new = DrugCatalogueEntry.objects.get(alliance=mine.alliance, nhsa_code="XC08CAN051A001010100009")
    assert (new.generic_name, new.pack_quantity, new.insurance_class, new.is_essential) == (
        "硝苯地平片",
        24,
        "A",
        True,
    )
    assert "xbdpp" in new.search_keys
    assert DrugPrice.objects.on(datetime.date(2026, 1, 1)).get(entry=new).retail_price == Decimal("12.50")
    renamed.refresh_from_db()
    assert renamed.trade_name == "阿莫灵"
    history = list(repriced.prices.order_by("valid_from").values_list("retail_price", "valid_to"))
    assert history == [(Decimal("12.5000"), today()), (Decimal("11.0000"), None)]
    assert DrugPrice.objects.on(today() - datetime.timedelta(days=1)).get(
        entry=repriced
    ).retail_price == Decimal("12.50")
    same.refresh_from_db()
    assert same.updated_at == DrugCatalogueEntry.objects.get(pk=same.pk).updated_at


def test_a_price_change_from_a_past_day_is_rejected_not_rewritten(world):
    mine, _other, users = world
    drug(mine.alliance)
    job = preview_import(IMPORTER, workbook([line(WESTERN, retail="9.99", start="2026-02-01")]),
                         user=users["alliance_admin"], target=mine.alliance)  # fmt: skip
    assert job.result["counts"]["rejected"] == 1
    assert job.result["rejected"][0]["column"] == "价格生效日期"


def test_only_the_office_imports_the_catalogue(world, client):
    _mine, _other, users = world
    for role, status in (("alliance_admin", 200), ("bureau", 403), ("clinician", 403)):
        client.force_login(users[role])
        assert client.get("/pharmacy/import/drugs/").status_code == status, role
    client.force_login(users["alliance_admin"])
    template = client.get("/pharmacy/import/drugs/template/")
    assert template.status_code == 200 and template["Content-Type"].startswith("application/vnd.openxml")
