"""The demo alliance's drug catalogue (统一目录), its unified prices over the year (统一价格) and
the formularies of its tiers (用药目录衔接), issue 16 point 6.

- Catalogue: CATALOGUE_SIZE entries built from the curated list of common drugs (drugs.py), each
  drug from several makers in several specifications and pack sizes, with the national code
  formats (pharmacy.codes: 医保药品编码 X… / Z…, 本位码 86…, 国药准字), trade names on the brand
  lines, the essential-drug flag (2018 edition), the insurance class, the negotiated drugs'
  agreement periods and the procurement batch of the makers that won it. The same seed gives the
  same catalogue (`catalogue_plan`, a pure function of the seed and the dates).
- Prices: every entry has its first unified price from the first day of the activity
  (DemoDates.period_start); a few hundred change during the year: the renewal (接续采购) of two
  procurement batches cuts their winners' prices, the other makers of procured drugs lower
  theirs towards them (价格联动), the renewed negotiated drugs are cheaper from January 1, and a
  few cheap drugs in short supply cost more (短缺药). The changes are history, before the anchor,
  so they are inserted as consecutive periods rather than through `change_price`, which refuses
  a past start by design. Purchase and retail prices are equal: public institutions sell drugs
  without a mark-up (药品零差率, 2017).
- Formularies, through `pharmacy.services`: the county tier most of the catalogue, the township
  tier a few hundred entries, about two thirds essential drugs, the village tier a hundred odd,
  nearly all essential and none an injection but the emergency ones; each lower tier is drawn
  from the one above, so a patient moving down keeps his drugs. The lead hospital has its own
  formulary: the county tier and the specialist drugs (oncology, special-grade antibiotics).

The entries are written in bulk with the audit trail off, like the rest of the load (see
`demo.services._build`): loading the demo is no one's change.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from pypinyin import lazy_pinyin

from pharmacy import services as pharmacy_services
from pharmacy.models import AntibioticGrade, DrugCatalogueEntry, DrugPrice, FormularyTier

from .context import add_months, step_random
from .county import LEAD_CODE
from .drugs import (
    BATCHES,
    BIOLOGICAL_MAKERS,
    CHINESE,
    CHINESE_MAKERS,
    FORMS,
    GENERIC_MAKERS,
    IMPORTED,
    MAKERS,
    WESTERN,
)

CATALOGUE_SIZE = 2_200
ESSENTIAL_EDITION = "2018"
GRADES = {"u": AntibioticGrade.UNRESTRICTED, "r": AntibioticGrade.RESTRICTED, "s": AntibioticGrade.SPECIAL}
COMPANY = {name: 10_001 + 37 * index for index, name in enumerate(MAKERS)}  # company number of the codes
CENT = Decimal("0.01")
UNMATCHED_SHARE = 0.03  # entries whose insurance code is not yet matched (对码)
RENEWED_BATCHES = 2  # procurement batches renewed during the year
LINKED_SHARE = 0.35  # of the other makers' lines of a procured drug, lowered towards the winners'
# Cheap drugs (a pack at most this many yuan) whose price rose, in short supply; never a
# procurement winner's, whose contract fixes it.
SHORTAGE_PRICE, SHORTAGE_SHARE = Decimal(10), 0.05
# Formularies: entries left off the county tier; sizes and essential-drug shares of the others.
COUNTY_LEFT_OFF = 0.08
TOWNSHIP_SIZE, TOWNSHIP_ESSENTIAL = (320, 400), (0.62, 0.68)
VILLAGE_SIZE, VILLAGE_ESSENTIAL = (110, 140), (0.85, 0.9)


@dataclass
class Line:
    """One entry of the catalogue as planned: its fields, its curated drug and the index of the
    drug in the list, whether its maker won the drug's procurement batch, its price periods
    ((valid_from, valid_to or None, price)) and, once saved, the entry."""

    fields: dict
    drug: object
    index: int
    price: Decimal  # the first price, per pack
    winner: bool = False
    prices: list = field(default_factory=list)
    entry: object = None

    @property
    def flags(self):
        return self.drug.flag_set


def recorded(alliance):
    """Whether the alliance has its catalogue already (the steps below then do nothing)."""
    return DrugCatalogueEntry.objects.filter(alliance=alliance).exists()


# --- Steps -----------------------------------------------------------------------------------------
def register_drugs(ctx):
    """The catalogue of the seed, inserted in bulk."""
    if recorded(ctx.alliance):
        return
    ctx.drugs = catalogue_plan(ctx.seed, ctx.dates)
    entries = DrugCatalogueEntry.objects.bulk_create(
        [DrugCatalogueEntry(alliance=ctx.alliance, **line.fields) for line in ctx.drugs], batch_size=1000
    )
    for line, entry in zip(ctx.drugs, entries, strict=True):
        line.entry = entry


def record_prices(ctx):
    """The unified prices of the year, consecutive periods per entry, inserted in bulk."""
    prices = [
        DrugPrice(entry=line.entry, purchase_price=price, retail_price=price, valid_from=start, valid_to=end)
        for line in ctx.drugs
        for start, end, price in line.prices
    ]
    DrugPrice.objects.bulk_create(prices, batch_size=2000)


def set_formularies(ctx):
    """The tiers' formularies and the lead hospital's own, through the pharmacy services."""
    if not ctx.drugs:
        return
    for tier, institution, lines in formulary_plan(ctx.seed, ctx.drugs):
        formulary = pharmacy_services.formulary_of(
            ctx.alliance,
            tier,
            ctx.institutions[institution] if institution else None,
            acting_user=ctx.acting_user,
        )
        pharmacy_services.set_formulary(
            formulary, [line.entry for line in lines], acting_user=ctx.acting_user
        )


# --- The catalogue -------------------------------------------------------------------------------
def catalogue_plan(seed, dates):
    """CATALOGUE_SIZE lines in national-code order: every drug of the list at least once, the
    rest drawn from all its makers' specifications and packs; each with its price periods."""
    rng = step_random(seed, "drugs")
    keys, serials = {}, {}
    candidates = []
    agreements = _agreements(rng, dates)
    for index, (drug, chinese) in enumerate([(d, False) for d in WESTERN] + [(d, True) for d in CHINESE]):
        candidates.extend(_lines_of(rng, index, drug, chinese, serials, agreements))
    chosen = _one_per_drug(rng, candidates)
    taken = {id(line) for line in chosen}
    chosen += rng.sample([line for line in candidates if id(line) not in taken], CATALOGUE_SIZE - len(chosen))
    chosen.sort(key=lambda line: line.fields["nhsa_code"])
    for line in chosen:
        names = (line.fields["generic_name"], line.fields["trade_name"])
        if names not in keys:
            keys[names] = pharmacy_services.search_keys(*names)
        line.fields["search_keys"] = keys[names]
    _price_history(step_random(seed, "drug prices"), chosen, dates, agreements)
    return chosen


def _one_per_drug(rng, candidates):
    """One line of every drug, so the list is all in the catalogue."""
    by_drug = {}
    for line in candidates:
        by_drug.setdefault(line.index, []).append(line)
    return [rng.choice(lines) for _index, lines in sorted(by_drug.items())]


def _lines_of(rng, index, drug, chinese, serials, agreements):
    """Every line of one drug: its makers (a pool's or its own), then each maker's
    specifications and packs; the winners of a procured drug are among the plain makers."""
    flags = drug.flag_set
    brands = {maker: trade for trade, maker in drug.trades}
    makers = list(drug.makers) if drug.makers is not None else _drawn_makers(rng, drug, chinese, brands)
    makers = [maker for maker in makers if maker not in brands]
    batch = next((BATCHES[flag] for flag in sorted(flags) if flag in BATCHES), "")
    winners = set(rng.sample(makers, min(len(makers), rng.randint(1, 3)))) if batch else set()
    negotiated = agreements.get(index, (None, None)) if "N" in flags else (None, None)
    lines = []
    for maker in makers + list(brands):
        winner = maker in winners
        factor = _maker_factor(rng, maker, brands, winner=winner, procured=bool(batch))
        for spec_index in _subset(rng, len(drug.specs), all_share=0.7):
            numbers = _numbers(rng, maker, chinese, flags, serials)
            for pack_index in _subset(rng, len(drug.packs), all_share=0.5):
                fields = _fields(index, drug, chinese, maker, spec_index, pack_index, numbers)
                fields.update(
                    trade_name=brands.get(maker, ""),
                    procurement_batch=batch if winner else "",
                    is_negotiated="N" in flags,
                    negotiated_from=negotiated[0],
                    negotiated_to=negotiated[1],
                    insurance_matched=rng.random() >= UNMATCHED_SHARE,
                )
                price = drug.price * (1 + 0.6 * spec_index) * factor * drug.packs[pack_index]
                lines.append(Line(fields, drug, index, _yuan(price), winner=winner))
    return lines


def _drawn_makers(rng, drug, chinese, brands):
    """Makers of the pool of the drug's kind: a classic Chinese patent medicine from six to twelve
    (made all over the country), an essential western drug from three to six (the cheap ones the
    alliance chose), another from six to eleven (newer drugs, with more brands besides the
    originator's)."""
    flags = drug.flag_set
    pool = BIOLOGICAL_MAKERS if "S" in flags else CHINESE_MAKERS if chinese else GENERIC_MAKERS
    pool = [maker for maker in pool if maker not in brands]
    low, high = (6, 12) if chinese else (3, 6) if "E" in flags else (6, 11)
    return rng.sample(pool, min(rng.randint(low, high), len(pool)))


def _maker_factor(rng, maker, brands, *, winner, procured):
    """How a maker's price stands to the reference: a procurement winner's a fraction of it, an
    originator's brand above it (well above once the drug is procured), a plain maker's near."""
    if winner:
        return rng.uniform(0.2, 0.45)
    if maker in brands and maker not in GENERIC_MAKERS:
        return rng.uniform(1.8, 3.0) if procured else rng.uniform(1.2, 1.8)
    if maker in brands:
        return rng.uniform(1.0, 1.4)
    return rng.uniform(0.8, 1.2)


def _subset(rng, count, *, all_share):
    """Indexes of the specifications (or packs) a maker has: all of them or a sorted sample."""
    if count == 1 or rng.random() < all_share:
        return list(range(count))
    return sorted(rng.sample(range(count), rng.randint(1, count)))


def _numbers(rng, maker, chinese, flags, serials):
    """The 本位码 and 批准文号 of one specification of a maker (its packs share them)."""
    company = COMPANY[maker]
    serials[maker] = serials.get(maker, 0) + rng.randint(1, 9)
    body = f"869{company:05d}{serials[maker]:05d}"
    letter = "Z" if chinese else "S" if "S" in flags else "J" if maker in IMPORTED else "H"
    if letter in "SJ" or rng.random() < 0.5:
        digits = f"20{rng.randint(5, 24):02d}{rng.randint(1, 9999):04d}"
    else:  # the provincial numbers of before 2005: province, year, serial
        digits = f"{MAKERS[maker]}{rng.choice(('95', '98', '00', '02', '03')):s}{rng.randint(1, 9999):04d}"
    return body + _check_digit(body), f"国药准字{letter}{digits}"


def _check_digit(digits):
    """A GTIN-style check digit (weights 3, 1 from the left): the standard's own algorithm is not
    in our sources, and the validator checks only the shape."""
    total = sum(int(d) * (3 if position % 2 == 0 else 1) for position, d in enumerate(digits))
    return str((10 - total % 10) % 10)


def _fields(index, drug, chinese, maker, spec_index, pack_index, numbers):
    """The entry's fields but those of the maker's standing (trade name, batch, agreement)."""
    form, flags = FORMS[drug.form], drug.flag_set
    pack = drug.packs[pack_index]
    initial = lazy_pinyin(drug.name[0])[0][0].upper()
    segment = f"{spec_index + 1:02d}{pack_index + 1:02d}{COMPANY[maker]:05d}"
    if chinese:
        code = f"Z{drug.code}{initial}{index:04d}{segment}"
    else:
        code = f"X{drug.code}{initial}{index:03d}{form.code}{segment}"
    bottle = pack >= 100 or (pack == 1 and form.unit == "瓶")
    essential = "E" in flags
    return {
        "nhsa_code": code,
        "standard_code": numbers[0],
        "approval_number": numbers[1],
        "generic_name": drug.name,
        "dosage_form": form.label,
        "specification": drug.specs[spec_index],
        "pack_material": "高密度聚乙烯瓶" if pack >= 100 and form.unit in ("片", "粒") else form.material,
        "pack_quantity": pack,
        "dispensing_unit": form.unit,
        "pack_unit": "瓶" if bottle else "盒",
        "manufacturer": maker,
        "authorisation_holder": maker,
        "insurance_class": next(flag for flag in ("A", "B", "C") if flag in flags),
        "is_essential": essential,
        "essential_edition": ESSENTIAL_EDITION if essential else "",
        "antibiotic_grade": next((GRADES[flag] for flag in GRADES if flag in flags), AntibioticGrade.NONE),
    }


def _yuan(value):
    return max(Decimal(str(value)).quantize(CENT), CENT * 10)


# --- Negotiated drugs and prices ---------------------------------------------------------------
def renewal_day(dates):
    """The January 1 inside the year of activity (after its first day): the day the negotiated
    drugs' new agreements, and the national insurance catalogue, take effect."""
    day = datetime.date(dates.period_end.year, 1, 1)
    return day if day < dates.period_end else datetime.date(day.year - 1, 1, 1)


def _agreements(rng, dates):
    """The agreement period of each negotiated drug (by its index in the list): two years, either
    renewed on the renewal day (at a lower price) or begun the year before."""
    new_year = renewal_day(dates)
    negotiated = [index for index, drug in enumerate(WESTERN + CHINESE) if "N" in drug.flag_set]
    agreements = {}
    for index in negotiated:
        start = new_year if rng.random() < 0.5 else new_year.replace(year=new_year.year - 1)
        agreements[index] = (start, start.replace(year=start.year + 2) - datetime.timedelta(days=1))
    return agreements


def _price_history(rng, lines, dates, agreements):
    """Each line's price periods: its first price from the first day of the activity, then the
    changes of the year (see the module's docstring), each on the first of a month."""
    months = [add_months(dates.period_start, n) for n in range(1, 13)]
    batches = sorted({line.fields["procurement_batch"] for line in lines} - {""})
    renewed = {
        batch: rng.choice(months[2:10]) for batch in rng.sample(batches, min(RENEWED_BATCHES, len(batches)))
    }
    new_year = renewal_day(dates)
    for line in lines:
        changes = []
        batch, procured = line.fields["procurement_batch"], any(flag in BATCHES for flag in line.flags)
        if batch in renewed:
            changes.append((renewed[batch], rng.uniform(0.75, 0.95)))
        elif line.fields["negotiated_from"] == new_year:
            changes.append((new_year, rng.uniform(0.85, 0.95)))
        elif procured and not line.winner and rng.random() < LINKED_SHARE:
            changes.append((rng.choice(months), rng.uniform(0.6, 0.85)))
        elif not line.winner and line.price <= SHORTAGE_PRICE and rng.random() < SHORTAGE_SHARE:
            changes.append((rng.choice(months), rng.uniform(1.1, 1.3)))
        if changes and changes[0][0] < months[-1] and rng.random() < 0.2:
            later = [month for month in months if month > changes[0][0]]
            changes.append((rng.choice(later), rng.choice((0.92, 0.95, 1.05, 1.08))))
        line.prices = _periods(dates.period_start, line.price, changes)


def _periods(start, price, changes):
    """Consecutive half-open periods [start, next start) of the prices, the last open-ended."""
    periods = []
    for day, factor in changes:
        periods.append((start, day, price))
        new = _yuan(float(price) * factor)
        if new == price:  # a change is a change, even of the cheapest drug
            new = price + CENT if factor > 1 else max(price - CENT, CENT)
        start, price = day, new
    periods.append((start, None, price))
    return periods


# --- Formularies ------------------------------------------------------------------------------------
def formulary_plan(seed, lines):
    """(tier, institution code or None, lines) of each formulary: a pure function of the seed
    and the catalogue."""
    rng = step_random(seed, "formularies")
    county = [line for line in lines if "H" not in line.flags and rng.random() >= COUNTY_LEFT_OFF]
    lead = sorted(county + [line for line in lines if "H" in line.flags], key=_code)
    township = _tier(
        rng,
        [line for line in county if line.fields["antibiotic_grade"] != AntibioticGrade.SPECIAL],
        TOWNSHIP_SIZE,
        TOWNSHIP_ESSENTIAL,
    )
    village = _tier(rng, [line for line in township if _for_villages(line)], VILLAGE_SIZE, VILLAGE_ESSENTIAL)
    return [
        (FormularyTier.COUNTY, None, county),
        (FormularyTier.TOWNSHIP, None, township),
        (FormularyTier.VILLAGE, None, village),
        (FormularyTier.COUNTY, LEAD_CODE, lead),
    ]


def _for_villages(line):
    """A village clinic keeps no injection but the emergency ones (村卫生室不输液), no antibiotic
    above the unrestricted grade and no negotiated drug."""
    injection = line.drug.form in ("注射液", "输液", "粉针", "笔芯", "预填充笔")
    return (
        (not injection or "R" in line.flags)
        and line.fields["antibiotic_grade"] in (AntibioticGrade.NONE, AntibioticGrade.UNRESTRICTED)
        and not line.fields["is_negotiated"]
    )


def _tier(rng, candidates, size, essential_share):
    """A formulary of a size and an essential-drug share drawn from the ranges given."""
    count = rng.randint(*size)
    essential = round(count * rng.uniform(*essential_share))
    chosen = _spread(rng, [line for line in candidates if line.fields["is_essential"]], essential)
    chosen += _spread(
        rng, [line for line in candidates if not line.fields["is_essential"]], count - len(chosen)
    )
    return sorted(chosen, key=_code)


def _spread(rng, candidates, count):
    """`count` lines spread over as many drugs as possible: one of each drug per round, the
    procurement winners first (集采中选药品优先使用)."""
    by_drug = {}
    for line in candidates:
        by_drug.setdefault(line.index, []).append(line)
    queues = []
    for _index, group in sorted(by_drug.items()):
        rng.shuffle(group)
        queues.append(sorted(group, key=lambda line: not line.winner))
    rng.shuffle(queues)
    chosen = []
    while len(chosen) < count and queues:
        for queue in list(queues):
            if len(chosen) == count:
                break
            chosen.append(queue.pop(0))
            if not queue:
                queues.remove(queue)
    return chosen


def _code(line):
    return line.fields["nhsa_code"]
