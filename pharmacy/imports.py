"""The import of the national catalogue workbook (issue 16 point 2) through the one import engine
(row mode): the insurance layout's headers (药品代码, 注册名称, 商品名称, 剂型, 规格, 包装材质,
最小包装数量, 最小制剂单位, 最小包装单位, 生产企业, 上市药品持有人, 批准文号, 药品本位码, 甲乙类, …)
are accepted as they are, beside the alliance's own price columns.

A new national code adds an entry (with its first prices); a known one is compared field by
field, and a different price is a price change from the row's date (today when empty), which
keeps the price history (services.change_price's rule: never before today, never rewriting a
past day). A code repeated in the file is rejected, never merged. Preview checks each row in
memory (the entry's own validation, no query per row); confirm writes the new entries and their
prices in bulk (audited as created) and the changed ones in bulk too (audited as changed), as
the services would one by one (a national workbook of 50,000 rows: tests/bench/test_pharmacy_bench.py).
"""

import copy
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from auditlog.cid import get_cid
from auditlog.context import auditlog_value
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alliance.models import Alliance
from alliance.querysets import today
from core import access, audit
from core.excel import BOOLEAN, CHOICE, CODE, DATE, INTEGER, TEXT, ImportColumn
from core.imports import CREATE, UNCHANGED, UPDATE, ImportAborted, Importer, RowPlan, RowRejected

from . import services
from .codes import plain
from .models import AntibioticGrade, DrugCatalogueEntry, DrugPrice, InsuranceClass

FIELDS = (
    "generic_name", "trade_name", "dosage_form", "specification", "pack_material", "pack_quantity",
    "dispensing_unit", "pack_unit", "manufacturer", "authorisation_holder", "approval_number", "standard_code",
    "insurance_class", "is_essential", "essential_edition", "is_negotiated", "negotiated_from", "negotiated_to",
    "procurement_batch", "antibiotic_grade", "insurance_matched",
)  # fmt: skip
DEFAULTS = {"pack_quantity": 1, "is_essential": False, "is_negotiated": False, "insurance_matched": False}
PRICES = ("purchase_price", "retail_price")


def _column(field, header, kind=TEXT, *aliases, **extra):
    return ImportColumn(field, header, kind, aliases=aliases, **extra)


COLUMNS = (
    _column("nhsa_code", gettext_lazy("national insurance drug code"), CODE, "药品代码", "医保药品编码",
            "国家医保药品编码", required=True, example="XJ01CAA040A001010100001"),
    _column("generic_name", gettext_lazy("generic name"), TEXT, "注册名称", "通用名称", "药品名称", required=True,
            example="阿莫西林胶囊"),
    _column("trade_name", gettext_lazy("trade name"), TEXT, "商品名称", example="阿莫仙"),
    _column("dosage_form", gettext_lazy("dosage form"), TEXT, "剂型", "注册剂型", "医保剂型", required=True,
            example="胶囊剂"),
    _column("specification", gettext_lazy("specification"), TEXT, "规格", "注册规格", required=True, example="0.25g"),
    _column("pack_material", gettext_lazy("packaging material"), TEXT, "包装材质", example="铝塑"),
    _column("pack_quantity", gettext_lazy("dispensing units per pack"), INTEGER, "最小包装数量", example=24),
    _column("dispensing_unit", gettext_lazy("dispensing unit"), TEXT, "最小制剂单位", required=True, example="粒"),
    _column("pack_unit", gettext_lazy("pack unit"), TEXT, "最小包装单位", required=True, example="盒"),
    _column("manufacturer", gettext_lazy("manufacturer"), TEXT, "生产企业", "药品企业", required=True,
            example="珠海联邦制药股份有限公司"),
    _column("authorisation_holder", gettext_lazy("marketing-authorisation holder"), TEXT, "上市药品持有人",
            "上市许可持有人"),
    _column("approval_number", gettext_lazy("approval number (批准文号)"), CODE, "批准文号", keep_case=True,
            example="国药准字H44021351"),
    _column("standard_code", gettext_lazy("drug standard code (本位码)"), CODE, "药品本位码", "本位码",
            example="86900234000017"),
    _column("insurance_class", gettext_lazy("insurance class"), CHOICE, "甲乙类", "2025版甲乙类", "医保类别",
            required=True, choices=tuple(InsuranceClass.choices),
            choice_aliases=(("甲", "A"), ("乙", "B"), ("丙", "C"), ("甲类", "A"), ("乙类", "B"), ("丙类", "C")),
            example="A"),
    _column("is_essential", gettext_lazy("essential drug (基本药物)"), BOOLEAN, "基本药物", "基药", example=True),
    _column("essential_edition", gettext_lazy("essential-drug list edition"), TEXT, "基药版本", example="2018"),
    _column("is_negotiated", gettext_lazy("nationally negotiated (国谈)"), BOOLEAN, "国谈药品", "谈判药品"),
    _column("negotiated_from", gettext_lazy("negotiated agreement from"), DATE, "协议起始日期"),
    _column("negotiated_to", gettext_lazy("negotiated agreement until"), DATE, "协议截止日期"),
    _column("procurement_batch", gettext_lazy("volume-based procurement batch (集采)"), TEXT, "集采批次"),
    _column("antibiotic_grade", gettext_lazy("antibiotic grade"), CHOICE, "抗菌药物分级",
            choices=tuple(AntibioticGrade.choices)),
    _column("insurance_matched", gettext_lazy("matched to the insurance code"), BOOLEAN, "已对码", "医保对码"),
    _column("purchase_price", gettext_lazy("unified purchase price"), TEXT, "统一采购价", "采购价", example="10.80"),
    _column("retail_price", gettext_lazy("unified retail price"), TEXT, "统一零售价", "零售价", example="12.50"),
    _column("price_from", gettext_lazy("price valid from"), DATE, "价格生效日期", example="2026-01-01"),
)  # fmt: skip


class DrugCatalogueImport(Importer):
    kind = "import_drugs"
    title = gettext_lazy("Import the drug catalogue")
    target_label = gettext_lazy("Alliance")
    template_title = gettext_lazy("Drug catalogue import template")
    url_prefix = "pharmacy:import_drugs"
    columns = COLUMNS
    key_field = "nhsa_code"
    repeat_message = gettext_lazy("This national code appears earlier in the file (row %(row)d).")
    max_rows = 60_000  # the national workbook: tens of thousands of rows (issue 16 point 2)
    check_by_applying = False  # each row is checked in memory: the entry's own validation
    first_instruction = gettext_lazy(
        "One row per drug, in the layout of the national insurance drug workbook; headers as in this template "
        "or as in the workbook (药品代码, 注册名称, …). A known code updates the drug; a different price is a "
        "price change from the row's date."
    )

    def may_import(self, user):
        return access.can_write(user, DrugCatalogueEntry)

    def targets(self, user):
        reach = access.reach(user, DrugCatalogueEntry, access.WRITE)
        return (
            Alliance.objects.all() if user.is_superuser else Alliance.objects.filter(pk__in=reach.alliances)
        )

    def prepare(self, rows, *, user, target):
        """The alliance's entries by code with the prices in force today, the start of each one's
        price in force (two queries), and room for the search keys of each name (`_search_keys`)."""
        codes = {plain(values["nhsa_code"]) for values in rows}
        entries = DrugCatalogueEntry.objects.filter(alliance=target, nhsa_code__in=codes).with_prices(today())
        entries = {entry.nhsa_code: entry for entry in entries}
        latest = dict(
            DrugPrice.objects.filter(
                entry__in=[entry.pk for entry in entries.values()], valid_to__isnull=True
            ).values_list("entry_id", "valid_from")
        )
        return {"entries": entries, "latest": latest, "keys": {}}

    def plan(self, values, *, user, target, context):
        code = plain(values["nhsa_code"])
        fields = {name: values[name] for name in FIELDS if values.get(name) not in (None, "")}
        prices = self._prices(values)
        known = context["entries"].get(code)
        label = f"{code} {values['generic_name']} {values.get('specification') or ''}".strip()
        if known is None:
            entry = DrugCatalogueEntry(
                alliance=target, nhsa_code=code, **(DEFAULTS | services.normalised(fields))
            )
            entry.search_keys = _search_keys(context, entry.generic_name, entry.trade_name)
            _check(entry)
            return RowPlan(
                CREATE, label, data={"entry": entry, "prices": prices, "from": values.get("price_from")}
            )
        return self._plan_update(
            known, services.normalised(fields), prices, values.get("price_from"), label, context
        )

    def _prices(self, values):
        prices = {}
        for name in PRICES:
            text = str(values.get(name) or "").strip().replace(",", "")
            if not text:
                continue
            try:
                prices[name] = Decimal(text).quantize(Decimal("0.0001"))
            except InvalidOperation:
                raise RowRejected(name, _("Write the price as a number of yuan, e.g. 12.50.")) from None
            if prices[name] < 0:
                raise RowRejected(name, _("A price is not negative."))
            try:  # the digits a price column holds: checked here, not when confirm writes in bulk
                DrugPrice._meta.get_field(name).run_validators(prices[name])
            except ValidationError as error:
                raise RowRejected(name, "".join(error.messages)) from None
        if len(prices) == 1:
            missing = next(name for name in PRICES if name not in prices)
            raise RowRejected(missing, _("Give both the purchase and the retail price, or neither."))
        return prices

    def _plan_update(self, known, fields, prices, price_from, label, context):
        changes = [
            (name, getattr(known, name), value)
            for name, value in fields.items()
            if getattr(known, name) != value
        ]
        new_price = prices and (prices["purchase_price"], prices["retail_price"]) != (
            known.purchase_price, known.retail_price,
        )  # fmt: skip
        if new_price:
            start = price_from or today()
            latest = context["latest"].get(known.pk)
            if _starts_too_early(start, latest):
                raise RowRejected("price_from", _too_early(latest))
            changes += [(name, getattr(known, name), prices[name]) for name in PRICES]
        if not changes:
            return RowPlan(UNCHANGED, label)
        check = DrugCatalogueEntry(
            **{**{f.attname: getattr(known, f.attname) for f in known._meta.concrete_fields}, **fields}
        )
        _check(check)
        return RowPlan(UPDATE, label, changes=changes, data={"entry": known, "fields": fields,
                                                             "prices": prices if new_price else None,
                                                             "from": price_from})  # fmt: skip

    def apply(self, entries, *, user, target, context):
        """New entries and their first prices in bulk (audited as created); changes in bulk too."""
        created = [(number, plan.data) for number, plan in entries if plan.action == CREATE]
        try:
            new = DrugCatalogueEntry.objects.bulk_create(
                [data["entry"] for _number, data in created], batch_size=2000
            )
        except IntegrityError as error:
            raise ImportAborted(
                _(
                    "A drug of this file was added by someone else meanwhile. Nothing was imported; upload the file again."
                )
            ) from error
        prices = [
            DrugPrice(entry=entry, valid_from=data["from"] or today(), **data["prices"])
            for entry, (_number, data) in zip(new, created, strict=True)
            if data["prices"]
        ]
        DrugPrice.objects.bulk_create(prices, batch_size=2000)
        audit.log_created(new)
        audit.log_created(prices)
        updates = {
            plan.data["entry"].pk: (number, plan.data) for number, plan in entries if plan.action == UPDATE
        }
        if updates:
            self._write_updates(updates, user, context)

    def _write_updates(self, updates, user, context):
        """The changed entries {pk: (row number, data)} as services.update_entry writes each: the
        rows locked, their fields and search keys saved, each save audited as auditlog audits
        one; in bulk, as one by one a change cost some 15 queries (issue 16 point 8)."""
        services._check_writer(user, next(iter(updates.values()))[1]["entry"])
        saved = DrugCatalogueEntry.objects.select_for_update().order_by("pk").in_bulk(list(updates))
        now, changed, names = timezone.now(), [], {"search_keys", "updated_at"}
        for pk, (number, data) in updates.items():
            if pk not in saved:
                raise self.aborted(number, RowRejected(None, _("The data changed after the preview.")))
            entry = copy.copy(saved[pk])
            names.update(name for name, value in data["fields"].items() if getattr(entry, name) != value)
            for name, value in data["fields"].items():
                setattr(entry, name, value)
            entry.search_keys = _search_keys(context, entry.generic_name, entry.trade_name)
            changed.append((saved[pk], entry))
        _log_changed(changed)  # before the stamp: auditlog diffs a save before auto_now sets it
        for _old, entry in changed:
            entry.updated_at = now
        # Small batches: each is one UPDATE … CASE WHEN id = … per field, whose cost grows with
        # the square of its rows (500 a batch took twice as long as 100).
        DrugCatalogueEntry.objects.bulk_update(
            [entry for _old, entry in changed], sorted(names), batch_size=100
        )
        self._write_prices({pk: row for pk, row in updates.items() if row[1]["prices"]})

    def _write_prices(self, priced):
        """The new prices {pk: (row number, data)} as services.change_price writes each, its rule
        checked again under the lock: the price in force ends the day the new one starts."""
        latest = dict(
            DrugPrice.objects.filter(entry_id__in=list(priced))
            .order_by()
            .values_list("entry_id")
            .annotate(Max("valid_from"))
        )
        ending, new = defaultdict(list), []
        for pk, (number, data) in priced.items():
            start = data["from"] or today()
            if _starts_too_early(start, latest.get(pk)):
                raise self.aborted(number, RowRejected("price_from", _too_early(latest[pk])))
            if pk in latest:
                ending[start].append(pk)
            new.append(DrugPrice(entry_id=pk, valid_from=start, **data["prices"]))
        for start, pks in ending.items():
            DrugPrice.objects.filter(entry_id__in=pks, valid_to__isnull=True).update(valid_to=start)
        audit.log_created(DrugPrice.objects.bulk_create(new, batch_size=2000))


def _check(entry):
    """The entry's own validation (every field and `clean`) without its queries: the alliance is
    the import's target, a code's uniqueness the file's (repeats are rejected) and the database's."""
    entry.full_clean(exclude=["alliance"], validate_unique=False, validate_constraints=False)


def _search_keys(context, *names):
    """services.search_keys of the names, each name's computed once per file (a catalogue names a
    drug in many forms, makers and packs): the keys of several names are each one's, repeats dropped."""
    cache, keys = context["keys"], []
    for name in names:
        if name not in cache:
            cache[name] = services.search_keys(name)
        keys.extend(cache[name].split())
    return " ".join(dict.fromkeys(keys))


def _starts_too_early(start, latest):
    """services.change_price's rule: a change starts today or later, after the latest price's start."""
    return latest is not None and (start < today() or start <= latest)


def _too_early(latest):
    return _("A price change starts today or later, after the latest price's start (%(start)s).") % {
        "start": latest.isoformat()
    }


def _log_changed(pairs):
    """Audit the (old, new) entries written by `bulk_update`, which sends no signals: an "update"
    entry per row whose audited fields changed, as auditlog writes for a save (the same diff and
    actor), in one bulk insert; core.audit.log_created's counterpart."""
    context = auditlog_value.get({})
    actor = context.get("actor")
    actor = actor if getattr(actor, "pk", None) else None
    content_type = ContentType.objects.get_for_model(DrugCatalogueEntry)
    entries = []
    for old, new in pairs:
        changes = model_instance_diff(old, new, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES)
        if changes:
            entries.append(
                LogEntry(
                    content_type=content_type, object_pk=str(new.pk), object_id=new.pk, object_repr=str(new),
                    action=LogEntry.Action.UPDATE, changes=changes, actor=actor,
                    actor_email=getattr(actor, "email", None), remote_addr=context.get("remote_addr"),
                    cid=get_cid(),
                )
            )  # fmt: skip
    LogEntry.objects.bulk_create(entries, batch_size=2000)
