"""Reads of the catalogue: search, prices on a date, formularies, scoped by the access policy."""

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections
from django.db.models import BooleanField, Count, F, Func, OuterRef, Q, Subquery

from core.querysets import ScopedQuerySet

from .codes import plain

TRIGRAM = 3  # pg_trgm finds a part of a text through its 3-character pieces: a shorter part has none


class _InArray(Func):
    """`value = ANY(array)`, PostgreSQL's test that an array holds a value (as a lookup's right
    side Django would put ANY(…) in parentheses, which PostgreSQL refuses)."""

    arity = 2
    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        (value, value_params), (array, array_params) = map(compiler.compile, self.get_source_expressions())
        return f"{value} = ANY({array})", (*value_params, *array_params)


class DrugCatalogueEntryQuerySet(ScopedQuerySet):
    def with_prices(self, on):
        """Annotate `purchase_price` and `retail_price` in force on `on` (one indexed read each,
        in the same query: no per-row lookup)."""
        from .models import DrugPrice

        price = DrugPrice.objects.on(on).filter(entry=OuterRef("pk")).order_by("-valid_from")
        return self.annotate(
            purchase_price=Subquery(price.values("purchase_price")[:1]),
            retail_price=Subquery(price.values("retail_price")[:1]),
        )

    def search(self, text):
        """Entries matching `text`: a part of the generic or trade name, of the national or
        standard code, or of any pinyin reading of the names, initials (`amxl`) or full
        (`amoxilin`), every reading of a character with several (services.search_keys). The one
        search of the catalogue page, the formulary editor and `/api/v1/drugs/?search=`. On
        PostgreSQL a trigram index serves each substring match (migration 0002)."""
        text = (text or "").strip()
        if not text:
            return self
        code, key = plain(text), "".join(ch for ch in text.lower() if ch.isalnum())
        condition, parts = Q(generic_name__icontains=text) | Q(trade_name__icontains=text), [text]
        if code.isascii() and code.isalnum():
            condition |= Q(nhsa_code__contains=code) | Q(standard_code__contains=code)
            parts.append(code)
        if key.isascii() and key:
            condition |= Q(search_keys__contains=key)
            parts.append(key)
        if connections[self.db].vendor != "postgresql" or min(map(len, parts)) < TRIGRAM:
            return self.filter(condition)
        # The matches' ids first (ARRAY(…), once, through the trigram indexes), then the page
        # read by id. Left to itself PostgreSQL walks the (alliance, generic_name) index in the
        # page's order hoping to meet 50 matches early, but a name's matches sit together
        # (阿莫西林…), so it tests most of the catalogue: 80–160 ms of 50,000 drugs instead of
        # 10 (issue 16 point 8, tests/bench/test_pharmacy_bench.py). A shorter part has no
        # trigram: nothing narrows the rows, and the walk at least stops at the 50th match.
        matches = ArraySubquery(self.filter(condition).order_by().values("pk"))
        return self.filter(_InArray(F("pk"), matches))


class DrugPriceQuerySet(ScopedQuerySet):
    def on(self, date):
        """The prices in force on `date`: valid_from ≤ date < valid_to (open-ended when empty)."""
        return self.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=date), valid_from__lte=date)


class FormularyQuerySet(ScopedQuerySet):
    def with_counts(self):
        """Annotate `drug_count` and `essential_count`: the essential-drug share of each (ordered
        explicitly: Meta.ordering does not apply to a grouped query)."""
        return self.order_by("alliance", "tier", "institution", "pk").annotate(
            drug_count=Count("items", distinct=True),
            essential_count=Count("items", filter=Q(items__entry__is_essential=True), distinct=True),
        )
