"""The demo alliance's drug catalogue (issue 16 point 6) at the small scale: its size and valid
national codes, the common drugs it names, the pinyin search, the unified prices of the year
(consecutive periods, a few hundred changed), the three tiers' formularies and the lead
hospital's own, determinism and idempotence (anchor of tests/demo/conftest.py: 2026-12-03, so the
activity and the prices begin on 2025-11-01)."""

import datetime
import io
from collections import Counter

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count, F, Max, Min

from alliance.models import Institution
from demo.services import seed_demo
from demo.services.pharmacy import CATALOGUE_SIZE, catalogue_plan, renewal_day
from pharmacy.codes import APPROVAL_NUMBER, NHSA_CODE, STANDARD_CODE
from pharmacy.models import (
    AntibioticGrade,
    DrugCatalogueEntry,
    DrugPrice,
    Formulary,
    FormularyChange,
    FormularyItem,
    FormularyTier,
)
from tests.demo.conftest import ANCHOR, DATES, SEED

D = datetime.date
BATCHES = {f"第{n}批" for n in "一二三四五六七八九"}
ISSUE_DRUGS = (
    "阿莫西林胶囊", "硝苯地平片", "硝苯地平缓释片", "盐酸二甲双胍片", "苯磺酸氨氯地平片", "阿托伐他汀钙片",
    "头孢呋辛酯片", "奥美拉唑肠溶胶囊", "布洛芬缓释胶囊", "氯雷他定片", "甲硝唑片", "胰岛素注射液",
    "复方丹参滴丸", "连花清瘟胶囊", "藿香正气水", "六味地黄丸", "板蓝根颗粒", "感冒清热颗粒",
)  # fmt: skip
INJECTIONS = ("注射剂", "注射用无菌粉末")


def _entries(county):
    return DrugCatalogueEntry.objects.filter(alliance=county.alliance)


def _formulary(county, tier, institution=None):
    return Formulary.objects.with_counts().get(alliance=county.alliance, tier=tier, institution=institution)


def _share(formulary):
    return formulary.essential_count / formulary.drug_count


# --- The catalogue ---------------------------------------------------------------------------------
def test_the_catalogue_has_its_size_and_every_entry_is_valid(county):
    entries = list(_entries(county))

    assert len(entries) == CATALOGUE_SIZE >= 2_000
    for entry in entries:
        entry.full_clean()  # the code validators, the entry's own rules and its uniqueness
    assert len({entry.nhsa_code for entry in entries}) == CATALOGUE_SIZE


def test_every_code_has_the_national_format_of_its_kind(county):
    kinds = Counter()
    for code, standard, approval in _entries(county).values_list(
        "nhsa_code", "standard_code", "approval_number"
    ):
        assert NHSA_CODE.fullmatch(code) and STANDARD_CODE.fullmatch(standard)
        assert APPROVAL_NUMBER.fullmatch(approval)
        if code.startswith("Z"):  # a Chinese patent medicine: 20 characters, 国药准字Z
            assert (len(code), approval[4]) == (20, "Z")
        else:
            assert (len(code), code[0]) == (23, "X") and approval[4] in "HSJ"
        kinds[code[0]] += 1

    assert kinds["X"] > kinds["Z"] >= 250


def test_the_catalogue_holds_the_common_drugs_in_their_specifications(county):
    entries = _entries(county)
    names = set(entries.values_list("generic_name", flat=True))
    amoxicillin = entries.filter(generic_name="阿莫西林胶囊")

    assert set(ISSUE_DRUGS) <= names
    assert 150 <= len(names) <= 300
    assert set(amoxicillin.values_list("specification", flat=True)) == {"0.25g", "0.5g"}
    assert amoxicillin.values("manufacturer").distinct().count() >= 3
    assert amoxicillin.filter(trade_name="阿莫仙", manufacturer="珠海联邦制药股份有限公司").exists()
    assert set(entries.filter(generic_name="硝苯地平控释片").values_list("trade_name", flat=True)) >= {
        "拜新同"
    }
    assert set(entries.filter(generic_name="连花清瘟胶囊").values_list("manufacturer", flat=True)) == {
        "石家庄以岭药业股份有限公司"
    }


def test_flags_classes_agreements_batches_and_grades_are_plausible(county):
    entries = _entries(county)
    essential = entries.filter(is_essential=True)
    negotiated = entries.filter(is_negotiated=True)
    new_year = renewal_day(DATES)

    assert new_year == D(2026, 1, 1)
    assert set(essential.values_list("essential_edition", flat=True)) == {"2018"}
    assert 0.45 <= essential.count() / CATALOGUE_SIZE <= 0.65
    assert set(entries.values_list("insurance_class", flat=True)) == {"A", "B", "C"}
    assert essential.filter(insurance_class="A").count() > essential.count() * 0.8
    assert set(negotiated.values_list("negotiated_from", "negotiated_to")) == {
        (new_year, D(2027, 12, 31)),
        (D(2025, 1, 1), D(2026, 12, 31)),
    }
    assert not entries.filter(is_negotiated=False, negotiated_from__isnull=False).exists()
    batches = set(entries.values_list("procurement_batch", flat=True)) - {""}
    assert {"第一批", "第二批", "第六批"} <= batches <= BATCHES
    assert set(entries.filter(generic_name="胰岛素注射液").values_list("procurement_batch", flat=True)) >= {
        "第六批"
    }
    grades = dict(entries.values_list("antibiotic_grade").annotate(n=Count("pk")))
    assert set(grades) == set(AntibioticGrade.values)
    assert set(entries.filter(generic_name="阿莫西林胶囊").values_list("antibiotic_grade", flat=True)) == {
        AntibioticGrade.UNRESTRICTED
    }
    assert set(entries.filter(generic_name="注射用美罗培南").values_list("antibiotic_grade", flat=True)) == {
        AntibioticGrade.SPECIAL
    }
    assert not entries.filter(generic_name="硝苯地平片").exclude(antibiotic_grade="").exists()
    assert 100 <= entries.exclude(trade_name="").count() <= 400


def test_the_search_finds_amoxicillin_by_its_pinyin_initials(county):
    found = _entries(county).search("amxl")

    assert (
        found.filter(generic_name="阿莫西林胶囊").count()
        == _entries(county).filter(generic_name="阿莫西林胶囊").count()
    )
    assert set(found.values_list("generic_name", flat=True)) >= {"阿莫西林胶囊", "阿莫西林克拉维酸钾片"}
    assert set(_entries(county).search("amoxilin").values_list("generic_name", flat=True)) == set(
        found.values_list("generic_name", flat=True)
    )


# --- Prices ------------------------------------------------------------------------------------------
def test_every_entry_has_one_price_on_every_day_of_the_year(county):
    prices = DrugPrice.objects.filter(entry__alliance=county.alliance)
    starts = prices.values("entry").annotate(first=Min("valid_from"), last=Max("valid_from"), n=Count("pk"))

    assert {row["first"] for row in starts} == {DATES.period_start}
    assert max(row["last"] for row in starts) < DATES.period_end
    for day in (DATES.period_start, D(2026, 1, 1), D(2026, 6, 15), DATES.last_month, ANCHOR):
        assert prices.on(day).count() == CATALOGUE_SIZE
        assert prices.on(day).values("entry").distinct().count() == CATALOGUE_SIZE
    assert not prices.filter(valid_from__gt=ANCHOR).exists()
    assert not prices.exclude(purchase_price=F("retail_price")).exists()  # 零差率: sold at what it cost


def test_price_periods_follow_each_other_without_overlap(county):
    periods = {}
    for entry, start, end in DrugPrice.objects.filter(entry__alliance=county.alliance).values_list(
        "entry", "valid_from", "valid_to"
    ):
        periods.setdefault(entry, []).append((start, end))

    changed = {entry: sorted(p) for entry, p in periods.items() if len(p) > 1}
    assert 150 <= len(changed) <= 600  # a few hundred
    assert any(len(p) == 3 for p in changed.values())  # some changed twice
    for spans in periods.values():
        spans.sort()
        assert spans[-1][1] is None
        assert all(earlier[1] == later[0] for earlier, later in zip(spans, spans[1:], strict=False))


def test_a_renewed_procurement_batch_cut_its_winners_prices_during_the_year(county):
    procured = DrugPrice.objects.filter(entry__alliance=county.alliance).exclude(entry__procurement_batch="")
    first_change = {}  # entry id → its first price after the first day
    for price in (
        procured.filter(valid_from__gt=DATES.period_start).select_related("entry").order_by("valid_from")
    ):
        first_change.setdefault(price.entry_id, price)
    days = {}  # batch → the days its winners' prices changed first
    for price in first_change.values():
        days.setdefault(price.entry.procurement_batch, set()).add(price.valid_from)

    assert 1 <= len(days) <= 2 and all(len(on) == 1 for on in days.values())  # renewed, each on its day
    for entry_id, new in first_change.items():
        old = DrugPrice.objects.on(new.valid_from - datetime.timedelta(days=1)).get(entry=entry_id)
        assert (old.valid_from, old.valid_to) == (DATES.period_start, new.valid_from)
        assert DrugPrice.objects.on(new.valid_from).get(entry=entry_id) == new
        assert new.retail_price < old.retail_price  # a winner's price never rose
    entry, new = next(iter(first_change.items()))
    with_prices = DrugCatalogueEntry.objects.filter(pk=entry)
    assert with_prices.with_prices(DATES.period_start).get().retail_price > new.retail_price
    assert with_prices.with_prices(new.valid_from).get().retail_price == new.retail_price


# --- Formularies -------------------------------------------------------------------------------------
def test_each_tier_has_its_formulary_and_lower_tiers_more_essential_drugs(county):
    county_tier = _formulary(county, FormularyTier.COUNTY)
    township = _formulary(county, FormularyTier.TOWNSHIP)
    village = _formulary(county, FormularyTier.VILLAGE)

    assert 0.8 * CATALOGUE_SIZE <= county_tier.drug_count < CATALOGUE_SIZE
    assert 320 <= township.drug_count <= 400
    assert 110 <= village.drug_count <= 140
    assert 0.6 <= _share(township) <= 0.7
    assert _share(village) >= 0.8
    assert _share(village) > max(_share(township), _share(county_tier))


def test_lower_tiers_are_drawn_from_the_ones_above_and_villages_keep_no_infusions(county):
    def held(tier, institution=None):
        return set(
            FormularyItem.objects.filter(
                formulary__alliance=county.alliance, formulary__tier=tier, formulary__institution=institution
            ).values_list("entry", flat=True)
        )

    county_tier, township, village = (held(tier) for tier in FormularyTier.values)
    village_entries = DrugCatalogueEntry.objects.filter(pk__in=village)
    lead_own = held(FormularyTier.COUNTY, Institution.objects.get(code="H0001"))

    assert village <= township <= county_tier <= lead_own
    assert DrugCatalogueEntry.objects.filter(
        pk__in=lead_own - county_tier, generic_name="注射用美罗培南"
    ).exists()
    assert not DrugCatalogueEntry.objects.filter(
        pk__in=township, antibiotic_grade=AntibioticGrade.SPECIAL
    ).exists()
    assert set(village_entries.values_list("antibiotic_grade", flat=True)) <= {
        "",
        AntibioticGrade.UNRESTRICTED,
    }
    injected = set(
        village_entries.filter(dosage_form__startswith="注射").values_list("generic_name", flat=True)
    )
    assert injected <= {"盐酸肾上腺素注射液", "硫酸阿托品注射液", "地塞米松磷酸钠注射液", "呋塞米注射液"}
    assert len(set(village_entries.values_list("generic_name", flat=True))) >= 100  # one of each, mostly


def test_the_formularies_history_names_the_demo_administrator(county):
    changes = FormularyChange.objects.filter(formulary__alliance=county.alliance)

    assert set(changes.values_list("action", flat=True)) == {"added"}
    assert set(changes.values_list("acting_user__username", flat=True)) == {"admin"}
    assert changes.count() == FormularyItem.objects.filter(formulary__alliance=county.alliance).count()


# --- Determinism and idempotence ---------------------------------------------------------------------
def _plan_rows(lines):
    return [
        (line.fields["nhsa_code"], line.fields["manufacturer"], line.fields["specification"], line.prices)
        for line in lines
    ]


def test_the_catalogue_in_the_database_is_the_plan_of_the_seed(county):
    plan = catalogue_plan(SEED, DATES)
    stored = []
    prices = {}
    for price in DrugPrice.objects.filter(entry__alliance=county.alliance).order_by("valid_from"):
        prices.setdefault(price.entry_id, []).append((price.valid_from, price.valid_to, price.retail_price))
    for entry in _entries(county).order_by("nhsa_code"):
        stored.append((entry.nhsa_code, entry.manufacturer, entry.specification, prices[entry.pk]))

    assert stored == _plan_rows(plan)
    assert _plan_rows(catalogue_plan(SEED, DATES)) == _plan_rows(plan)
    assert [row[0] for row in _plan_rows(catalogue_plan(SEED + 1, DATES))] != [row[0] for row in stored]


def test_a_second_run_adds_no_drug_and_prints_the_catalogue(county):
    models = (DrugCatalogueEntry, DrugPrice, Formulary, FormularyItem, FormularyChange)
    counts = [model.objects.count() for model in models]
    out = io.StringIO()

    call_command("seed_demo", "--seed", str(SEED), "--scale", "small", stdout=out)

    assert [model.objects.count() for model in models] == counts
    assert f"药品目录 {CATALOGUE_SIZE}" in out.getvalue()


def test_a_county_loaded_before_the_catalogue_gets_it_on_the_next_run(county):
    plan = _plan_rows(catalogue_plan(SEED, DATES))
    for model in (FormularyChange, FormularyItem, Formulary, DrugPrice, DrugCatalogueEntry):
        model.objects.all().delete()

    result = seed_demo(seed=SEED, scale="small", today=ANCHOR)

    assert result.built and [name for name, _seconds in result.timings] == [
        "register_drugs",
        "record_prices",
        "set_formularies",
    ]
    assert [row[0] for row in plan] == list(
        _entries(county).order_by("nhsa_code").values_list("nhsa_code", flat=True)
    )
    assert Formulary.objects.filter(alliance=county.alliance).count() == 4
    assert get_user_model().objects.filter(username="admin").exists()
