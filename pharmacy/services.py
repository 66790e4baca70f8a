"""Writes of the drug catalogue and the formularies (issue 16): the one path for the pages, the
API, the import and the demo. The alliance office (alliance_admin) keeps them (DESIGN §5)."""

import itertools

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from pypinyin import Style, pinyin

from alliance.querysets import today
from core import access

from .codes import plain
from .models import DrugCatalogueEntry, DrugPrice, Formulary, FormularyChange, FormularyItem

# A name with several many-reading characters has many readings; past this many, the rest are
# left out (a drug's name has rarely more than two such characters).
MAX_READINGS = 64
CODE_FIELDS = ("nhsa_code", "standard_code", "approval_number")


def search_keys(*names):
    """The search keys of names: for every reading of every character with several readings
    (pypinyin, heteronym), the full pinyin and the initials, and ü also written u (`lv`, `lu`):
    `阿莫西林` gives `amoxilin emoxilin amuxilin … amxl emxl`. A HIS that indexes only the first
    reading cannot find 阿 typed `a`: this index can."""
    keys = []
    for name in names:
        characters = [c for c in (name or "") if not c.isspace()]
        if not characters:
            continue
        readings = pinyin(characters, style=Style.NORMAL, heteronym=True, errors=lambda s: [s.lower()])
        for combination in itertools.islice(itertools.product(*readings), MAX_READINGS):
            syllables = [_alphanumeric(part) for part in combination]
            full, initials = "".join(syllables), "".join(s[:1] for s in syllables if s)
            keys.extend((full, initials))
            if "v" in full:
                keys.append(full.replace("v", "u"))
    return " ".join(dict.fromkeys(key for key in keys if key))


def _alphanumeric(text):
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _check_writer(user, obj):
    if user is not None and not access.can_write(user, type(obj), obj):
        raise PermissionDenied(_("Only the alliance office keeps the drug catalogue and the formularies."))


def normalised(fields):
    """The codes of `fields` made plain (full-width to plain, spaces dropped, upper case)."""
    return {name: plain(value) if name in CODE_FIELDS else value for name, value in fields.items()}


@transaction.atomic
def create_entry(alliance, *, acting_user, purchase_price=None, retail_price=None, price_from=None, **fields):
    """A new entry of the alliance's catalogue, with its first unified price when given."""
    entry = DrugCatalogueEntry(alliance=alliance, **normalised(fields))
    _check_writer(acting_user, entry)
    entry.search_keys = search_keys(entry.generic_name, entry.trade_name)
    entry.full_clean()
    entry.save()
    if retail_price is not None:
        _first_price(entry, purchase_price, retail_price, price_from or today())
    return entry


@transaction.atomic
def update_entry(entry, *, acting_user, **changes):
    """Change an entry's fields (never its prices: `change_price`)."""
    _check_writer(acting_user, entry)
    for name, value in normalised(changes).items():
        setattr(entry, name, value)
    entry.search_keys = search_keys(entry.generic_name, entry.trade_name)
    entry.full_clean()
    entry.save()
    return entry


def _first_price(entry, purchase_price, retail_price, valid_from):
    price = DrugPrice(
        entry=entry, purchase_price=purchase_price, retail_price=retail_price, valid_from=valid_from
    )
    price.full_clean(exclude=["entry"])
    price.save()
    return price


@transaction.atomic
def change_price(entry, *, purchase_price, retail_price, valid_from=None, acting_user):
    """The unified prices from `valid_from` (default today) on: the price in force ends the day
    before, so every earlier day keeps the price it had. A change may not begin before today,
    nor on or before the start of the latest price (that would rewrite a past day's price); the
    entry's row is locked, so two changes at once follow each other."""
    _check_writer(acting_user, entry)
    valid_from = valid_from or today()
    DrugCatalogueEntry.objects.select_for_update().filter(pk=entry.pk).order_by("pk").first()
    latest = entry.prices.order_by("-valid_from").first()
    if latest is None:
        return _first_price(entry, purchase_price, retail_price, valid_from)
    if valid_from < today() or valid_from <= latest.valid_from:
        raise ValidationError(
            {"valid_from": [_("A price change starts today or later, after the latest price's start (%(start)s).")
                            % {"start": latest.valid_from.isoformat()}]}
        )  # fmt: skip
    DrugPrice.objects.filter(entry=entry, valid_to__isnull=True).update(valid_to=valid_from)
    return _first_price(entry, purchase_price, retail_price, valid_from)


# --- Formularies ----------------------------------------------------------------------------------
@transaction.atomic
def formulary_of(alliance, tier, institution=None, *, acting_user):
    """The formulary of a tier (or of one institution of the alliance), created empty when
    missing: one per tier and institution."""
    _check_writer(acting_user, Formulary(alliance=alliance, tier=tier, institution=institution))
    formulary, _created = Formulary.objects.get_or_create(
        alliance=alliance, tier=tier, institution=institution
    )
    return formulary


@transaction.atomic
def set_formulary(formulary, entries, *, acting_user):
    """The formulary holds exactly `entries` (of its alliance's catalogue); each drug added or
    removed is a FormularyChange row (who, when): the formulary's history."""
    _check_writer(acting_user, formulary)
    wanted = {entry.pk: entry for entry in entries}
    foreign = [entry for entry in wanted.values() if entry.alliance_id != formulary.alliance_id]
    if foreign:
        raise ValidationError({"entries": [_("A formulary holds drugs of its own alliance's catalogue.")]})
    Formulary.objects.select_for_update().filter(pk=formulary.pk).order_by(
        "pk"
    ).first()  # no join: PostgreSQL locks no nullable side
    held = {item.entry_id: item for item in formulary.items.all()}
    gone = [item for entry_id, item in held.items() if entry_id not in wanted]
    new = [entry for entry_id, entry in wanted.items() if entry_id not in held]
    FormularyItem.objects.filter(pk__in=[item.pk for item in gone]).delete()
    FormularyItem.objects.bulk_create([FormularyItem(formulary=formulary, entry=entry) for entry in new])
    user = acting_user if getattr(acting_user, "pk", None) else None
    FormularyChange.objects.bulk_create(
        [
            FormularyChange(formulary=formulary, entry_id=item.entry_id, action="removed", acting_user=user)
            for item in gone
        ]
        + [
            FormularyChange(formulary=formulary, entry=entry, action="added", acting_user=user)
            for entry in new
        ]
    )
    return formulary
