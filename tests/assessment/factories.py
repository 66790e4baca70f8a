"""Definitions for the assessment tests, written through the service."""

import datetime

from assessment import services

D = datetime.date


def definition(code="test_share", **fields):
    """A share of primary-care visits, version 1, effective from 2024-01-01."""
    values = {
        "name_zh": "测试占比",
        "name_en": "Test share",
        "numerator": "#{visits.in_county.primary}",
        "denominator": "#{visits.in_county}",
        "unit": "percent",
        "direction": "higher_better",
        "effective_from": D(2024, 1, 1),
    } | fields
    return services.create_definition(code=code, acting_user=None, **values)
