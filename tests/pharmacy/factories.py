"""Catalogue entries for the pharmacy tests, written through the service."""

import datetime
from decimal import Decimal

from pharmacy import services

# Valid codes in the national formats: a western drug (X + 22), a Chinese patent medicine (Z + 19).
WESTERN = "XJ01CAA040A001010100001"
CHINESE = "ZA04AAL0123010101234"


def western(n):
    return f"XJ01CAA040A0010101{n:05d}"


def drug(alliance, code=WESTERN, **fields):
    values = {
        "generic_name": "阿莫西林胶囊", "trade_name": "阿莫仙", "dosage_form": "胶囊剂", "specification": "0.25g",
        "pack_quantity": 24, "dispensing_unit": "粒", "pack_unit": "盒", "manufacturer": "珠海联邦制药股份有限公司",
        "insurance_class": "A", "is_essential": True, "essential_edition": "2018",
        "standard_code": "86900234000017", "approval_number": "国药准字H44021351",
        "retail_price": Decimal("12.50"), "purchase_price": Decimal("10.80"), "price_from": datetime.date(2026, 1, 1),
    } | fields  # fmt: skip
    return services.create_entry(alliance, nhsa_code=code, acting_user=None, **values)
