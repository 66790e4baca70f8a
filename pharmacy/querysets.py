"""Reads of the catalogue: search, prices on a date, formularies, scoped by the access policy."""

from django.db.models import Count, OuterRef, Q, Subquery

from core.querysets import ScopedQuerySet

from .codes import plain


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
        condition = Q(generic_name__icontains=text) | Q(trade_name__icontains=text)
        if code.isascii() and code.isalnum():
            condition |= Q(nhsa_code__contains=code) | Q(standard_code__contains=code)
        if key.isascii() and key:
            condition |= Q(search_keys__contains=key)
        return self.filter(condition)


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
