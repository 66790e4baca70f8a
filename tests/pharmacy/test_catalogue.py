"""The drug catalogue (issue 16 points 1, 4): every code format with its message, a price on a
past date after a change, search by name, pinyin initials, full pinyin, code and a character
with several readings."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from alliance.querysets import today
from pharmacy import services
from pharmacy.models import DrugCatalogueEntry, DrugPrice
from tests.alliance.factories import AllianceFactory
from tests.pharmacy.factories import CHINESE, WESTERN, drug

pytestmark = pytest.mark.django_db

D = datetime.date


def errors_of(alliance, **fields):
    with pytest.raises(ValidationError) as raised:
        drug(alliance, **fields)
    return raised.value.message_dict


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("code", "XJ01CAA040A00101010000", "23"),  # 22 characters
        ("code", "XJ01CAA040A0010101000.1", "大写"),  # not a letter or digit
        ("code", "ZA04AAL012301010123", "20"),  # 19 characters
        ("code", "YA04AAL0123010101234", "X"),  # neither X nor Z
        ("code", "XJ01CAA040A00101010000-", "23"),
        ("standard_code", "8690023400001", "14"),
        ("standard_code", "96900234000017", "86"),
        ("approval_number", "国药准字H4402135", "国药准字"),
        ("approval_number", "国药准字X44021351", "H、Z、S 或 J"),
    ],
)
def test_every_code_format_is_checked_with_a_message_naming_it(field, value, message):
    alliance = AllianceFactory()
    errors = errors_of(alliance, **{field: value})
    name = "nhsa_code" if field == "code" else field
    assert list(errors) == [name]
    assert message in errors[name][0]
    assert not DrugCatalogueEntry.objects.exists()


def test_valid_codes_of_both_kinds_are_kept_plain_and_upper_case():
    alliance = AllianceFactory()
    western = drug(alliance, "xj01caa040a001010100001".upper())
    chinese = drug(alliance, "ＺＡ04AAL0123010101234", generic_name="连花清瘟胶囊", standard_code="")
    assert (western.nhsa_code, western.is_chinese_patent_medicine) == (WESTERN, False)
    assert (chinese.nhsa_code, chinese.is_chinese_patent_medicine) == (CHINESE, True)


def test_a_code_is_once_in_an_alliance_and_may_be_in_another():
    first, second = AllianceFactory(), AllianceFactory()
    drug(first)
    assert "__all__" in errors_of(first) or "nhsa_code" in errors_of(first)
    assert drug(second).alliance == second


def test_the_flags_need_their_details():
    alliance = AllianceFactory()
    assert "essential_edition" in errors_of(alliance, essential_edition="")
    assert "negotiated_from" in errors_of(alliance, is_negotiated=True)
    negotiated = errors_of(
        alliance, is_negotiated=True, negotiated_from=D(2026, 1, 1), negotiated_to=D(2025, 1, 1)
    )
    assert "negotiated_to" in negotiated


# --- Prices ---------------------------------------------------------------------------------------
def test_a_price_change_keeps_every_past_days_price():
    entry = drug(AllianceFactory())
    day = today()
    services.change_price(
        entry, purchase_price=Decimal("9.90"), retail_price=Decimal("11.20"), valid_from=day, acting_user=None
    )

    def retail(on):
        return DrugPrice.objects.on(on).get(entry=entry).retail_price

    assert retail(D(2026, 1, 1)) == Decimal("12.50")
    assert retail(day - datetime.timedelta(days=1)) == Decimal("12.50")
    assert retail(day) == Decimal("11.20")
    annotated = DrugCatalogueEntry.objects.with_prices(day - datetime.timedelta(days=1)).get(pk=entry.pk)
    assert annotated.retail_price == Decimal("12.50")
    assert not DrugPrice.objects.on(D(2025, 12, 31)).filter(entry=entry).exists()


def test_a_price_change_never_starts_in_the_past_nor_twice_on_a_day():
    entry = drug(AllianceFactory())
    yesterday = today() - datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as past:
        services.change_price(entry, purchase_price=1, retail_price=2, valid_from=yesterday, acting_user=None)
    assert "valid_from" in past.value.message_dict
    services.change_price(entry, purchase_price=1, retail_price=2, valid_from=today(), acting_user=None)
    with pytest.raises(ValidationError):
        services.change_price(entry, purchase_price=3, retail_price=4, valid_from=today(), acting_user=None)
    assert list(entry.prices.order_by("valid_from").values_list("retail_price", flat=True)) == [
        Decimal("12.5000"), Decimal("2.0000"),
    ]  # fmt: skip


# --- Search ---------------------------------------------------------------------------------------
@pytest.fixture
def catalogue():
    alliance = AllianceFactory()
    entries = {
        "amoxicillin": drug(alliance),
        "nifedipine": drug(alliance, "XC08CAN051A001010100002", generic_name="硝苯地平片", trade_name="",
                           specification="10mg", is_essential=True),
        "metformin": drug(alliance, "XA10BAE120A001010100003", generic_name="盐酸二甲双胍片", trade_name="格华止",
                          standard_code="86900234000024"),
        "insulin": drug(alliance, "XA10ABR052B002010100004", generic_name="重组人胰岛素注射液", trade_name="",
                        dosage_form="注射剂", standard_code=""),
        "lianhua": drug(alliance, CHINESE, generic_name="连花清瘟胶囊", trade_name="", standard_code="",
                        insurance_class="B"),
    }  # fmt: skip
    return alliance, entries


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("阿莫西林", "amoxicillin"),  # generic name
        ("阿莫仙", "amoxicillin"),  # trade name
        ("amxl", "amoxicillin"),  # pinyin initials
        ("AMXL", "amoxicillin"),
        ("amoxilin", "amoxicillin"),  # full pinyin
        ("xbdp", "nifedipine"),
        ("ejsg", "metformin"),
        ("ghz", "metformin"),  # the trade name's initials
        ("czryds", "insulin"),  # 重 read chong: a HIS indexing its first reading (zhong) misses it
        ("zzryds", "insulin"),  # and zhong too
        ("lhqw", "lianhua"),
        ("XA10BAE120", "metformin"),  # a part of the national code
        ("za04aal", "lianhua"),
        ("86900234000024", "metformin"),  # the standard code
    ],
)
def test_search_by_every_form(catalogue, text, found):
    alliance, entries = catalogue
    results = list(DrugCatalogueEntry.objects.filter(alliance=alliance).search(text))
    assert entries[found] in results
    assert len(results) == 1, (text, results)


def test_the_keys_hold_every_reading():
    keys = services.search_keys("阿莫西林").split()
    assert {"amoxilin", "emoxilin", "amxl", "emxl"} <= set(keys)
    assert "anludipingpian" in services.search_keys("氨氯地平片")  # ü typed u
    assert "anlvdipingpian" in services.search_keys("氨氯地平片")
