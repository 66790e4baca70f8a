"""The row generators behind demo/services/activity.py: plain Python over precomputed tables,
a pure function of the layout, the patient pool and the random source (no database, no date
arithmetic per row), yielding tuples in the column order of activity.VISIT_COLUMNS and
ADMISSION_COLUMNS.

Days get exact counts (largest remainder) by month, weekday and holiday; each row then draws
its institution, diagnosis (seasonal), department, patient, amounts and when its sender
delivered it. Dates, decimals and UTC timestamps are texts both COPY and SQLite take as such.
"""

import datetime
import itertools
from bisect import bisect
from collections import defaultdict
from functools import partial

from . import casemix as mix

MARGIN = 40  # days of date text kept before and after the period (admission dates, late rows)
SEASON = 6  # position of the season in the rows of both diagnosis tables
VISIT_COLUMN = {mix.VILLAGE: 3, mix.BRANCH: 4, mix.HOSPITAL: 5}
ADMISSION_COLUMN = {mix.BRANCH: 3, mix.HOSPITAL: 4}
OUTSIDE_COLUMN = 5
NON_RESIDENT = {mix.VILLAGE: 0.015, mix.BRANCH: 0.03, mix.HOSPITAL: 0.08}
OUTSIDE_VISITS = 0.03  # share of visits that are residents' visits outside the county
OUTSIDE_ADMISSIONS = 0.15  # share of residents' admissions outside the county (GD target: 85% in)
NON_RESIDENT_ADMISSIONS = 0.05  # share of in-county admissions of other counties' residents
LATE = 0.06  # share of HIS rows sent a few days late instead of in the next night's batch
# Nightly HIS batches run 00:30-06:00 in Shanghai: 16:30-22:00 UTC of the day before.
NIGHT = tuple(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(59400, 79200, 7))
# The insurance agency sends settled claims in office hours: 09:00-17:00, 01:00-09:00 UTC.
OFFICE = tuple(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(3600, 32400, 11))
RESIDENT, OUTSIDE, NON_RESIDENT_KIND = "resident", "outside", "non-resident"


class Calendar:
    """The days of the period (context.DemoDates) and the texts rows need, by day index.

    Nothing arrives after the anchor: a row sent late, or a claim the insurance agency would
    settle after it, came in the day before (its night batch ends on the anchor's morning)."""

    def __init__(self, dates):
        start, end = dates.period_start, dates.period_end
        self.days = [start + datetime.timedelta(days=n) for n in range((end - start).days)]
        first = start - datetime.timedelta(days=MARGIN)
        self.text = [str(first + datetime.timedelta(days=n)) for n in range(len(self.days) + 2 * MARGIN)]
        self.month = [f"{day:%Y-%m}-01" for day in self.days]
        self.moved = [int(day >= dates.move_on) for day in self.days]
        self.holidays = mix.holidays(sorted({day.year for day in self.days}))
        eve = dates.anchor - datetime.timedelta(days=1)
        self.last_received = (eve - first).days  # index in `text` of the anchor's eve
        # The insurance agency sends a month's settled claims between the 5th and the 15th of the next.
        self.settled = {}
        for month, day in zip(self.month, self.days, strict=True):
            settled = [_next_month(day).replace(day=n) for n in range(5, 16)]
            self.settled[month] = [str(day) for day in settled if day <= eve] or [str(eve)]

    def date(self, index, offset=0):
        return self.text[index + MARGIN + offset]

    def received(self, index, late):
        """The UTC date text of the night batch sending a row of day `index`, `late` days late."""
        return self.text[min(index + MARGIN + late, self.last_received)]


def _next_month(day):
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def spread(total, weights):
    """`total` split over `weights` in whole numbers that add up exactly (largest remainder)."""
    exact = [weight * total / sum(weights) for weight in weights]
    counts = [int(value) for value in exact]
    by_remainder = sorted(range(len(exact)), key=lambda n: counts[n] - exact[n])
    for n in by_remainder[: total - sum(counts)]:
        counts[n] += 1
    return counts


def money(cents):
    return f"{cents // 100}.{cents % 100:02d}"


def department_options(site, subjects):
    """(department id, tcm) choices for a diagnosis at `site`: its first three matching
    departments weighted 3:2:1; TCM departments' rows are TCM, others by the site's tcm_share."""
    options = []
    for rank, code in enumerate([code for code in subjects if code in site.departments][:3]):
        copies = (3 - rank) * 10
        flagged = copies if code in mix.TCM_SUBJECTS else round(copies * site.tcm_share)
        department = site.departments[code]
        options += [(department, True)] * flagged + [(department, False)] * (copies - flagged)
    return options


def _no_department(_subjects):
    return [(None, False)]  # outside the county: the insurance feed names no department


def diagnosis_mix(table, column, month, options_of):
    """(cumulative weights, entries) of `table` in `month` with the weights in `column`; an entry
    is (row, department options, prenatal). Diagnoses without a department there are left out."""
    cumulative, entries, total = [], [], 0.0
    for row in table:
        options = options_of(row[2])
        weight = row[column] * mix.season_factor(row[SEASON], month)
        if options and weight:
            total += weight
            cumulative.append(total)
            entries.append((row, options, row[0] in mix.PRENATAL))
    return cumulative, entries


class RowMaker:
    """What one generator run shares: the random source, the pools, each sender's numbering."""

    def __init__(self, layout, patients, rng, calendar):
        self.layout, self.patients, self.calendar = layout, patients, calendar
        self.rng, self.random = rng, rng.random
        self.numbers = defaultdict(lambda: itertools.count(1))
        self.mixes = {}
        self.facility_weights = list(itertools.accumulate(facility[2] for facility in layout.facilities))

    def pick(self, weighted):
        cumulative, entries = weighted
        return entries[bisect(cumulative, self.random() * cumulative[-1])]

    def mix(self, key, table, column, month, site=None):
        """The diagnosis mix of `site` (None: outside the county) in `month`, built once."""
        if key not in self.mixes:
            options = partial(department_options, site) if site else _no_department
            self.mixes[key] = diagnosis_mix(table, column, month, options)
        return self.mixes[key]

    def patient(self, *, prenatal, resident):
        """(patient key, insured region): residents skewed towards the front of the pool (the
        signed, chronic patients), other counties' residents evenly."""
        if not resident:
            neighbours = self.patients.neighbours
            return neighbours[int(self.random() * len(neighbours))]
        pool = self.patients.mothers if prenatal else self.patients.residents
        return pool[int(self.random() ** 2 * len(pool))], self.layout.region

    def sent(self, site, index):
        """(user id, source, number, received at): who sent a row of `site` about day `index`
        and when it arrived, in the next night's batch or a few days late."""
        user, source = site.senders[self.calendar.moved[index]]
        late = 0 if site.silent_from or self.random() >= LATE else 1 + int(self.random() * 6)
        received = f"{self.calendar.received(index, late)} {NIGHT[int(self.random() * len(NIGHT))]}"
        return user, source, next(self.numbers[user]), received

    def settled(self, month):
        """(user id, source, number, received at) of a claim of `month` from the insurance feed."""
        user, source = self.layout.insurance
        days = self.calendar.settled[month]
        received = f"{days[int(self.random() * len(days))]} {OFFICE[int(self.random() * len(OFFICE))]}"
        return user, source, next(self.numbers[user]), received

    def facility(self):
        weights = self.facility_weights
        return self.layout.facilities[bisect(weights, self.random() * weights[-1])]

    def amounts(self, low, high, share):
        """A cost from `low` to `high` yuan (cheaper ones more often) and the part insurance paid."""
        cents = int((low + (high - low) * self.random() ** 1.5) * 100)
        paid = int(cents * (share[0] + (share[1] - share[0]) * self.random()))
        return money(cents), money(paid)

    def sites_on(self, index, weight):
        """(cumulative weights, sites) sending on day `index`: silent ones have stopped, closed
        ones are shut for the month, and the lead hospital draws the month's share of primary
        care's visits (Layout.drawn)."""
        day, month = self.calendar.days[index], self.calendar.month[index]
        drawn = self.layout.drawn.get(month, 0.0) if weight == "visit_weight" else 0.0
        sites = [
            s
            for s in self.layout.sites
            if getattr(s, weight)
            and not (s.silent_from and day >= s.silent_from)
            and s.closed_in != day.replace(day=1)
        ]
        key = (weight, drawn, tuple(site.code for site in sites))
        if key not in self.mixes:
            weights = drawn_weights(sites, weight, drawn, self.layout.lead)
            self.mixes[key] = (list(itertools.accumulate(weights)), sites)
        return self.mixes[key]


def drawn_weights(sites, weight, drawn, lead):
    """The sites' `weight`s with primary care's lowered by the share `drawn` and the lead
    hospital's raised by as much: the same visits, some of them at the lead (siphoning)."""
    weights = [getattr(site, weight) for site in sites]
    if drawn:
        primary = [n for n, site in enumerate(sites) if site.tier in (mix.BRANCH, mix.VILLAGE)]
        weights[[site.code for site in sites].index(lead)] += drawn * sum(weights[n] for n in primary)
        for n in primary:
            weights[n] *= 1 - drawn
    return weights


# --- Visits ----------------------------------------------------------------------------------------
def visit_rows(layout, patients, rng, total, calendar):
    """`total` outpatient visits over the calendar's days."""
    maker = RowMaker(layout, patients, rng, calendar)
    weights = [
        mix.VISIT_MONTHS[day.month - 1] * mix.VISIT_WEEKDAYS[day.weekday()] * calendar.holidays.get(day, 1.0)
        for day in calendar.days
    ]
    for index, count in enumerate(spread(total, weights)):
        cumulative, sites = maker.sites_on(index, "visit_weight")
        for site in rng.choices(sites, cum_weights=cumulative, k=count):
            if maker.random() < OUTSIDE_VISITS:
                yield _outside_visit(maker, index)
            else:
                yield _visit(maker, site, index)


def _visit(maker, site, index):
    month = maker.calendar.month[index]
    row, options, prenatal = maker.pick(
        maker.mix((site.code, month), mix.VISIT_DIAGNOSES, VISIT_COLUMN[site.tier], int(month[5:7]), site)
    )
    department, tcm = options[int(maker.random() * len(options))]
    resident = maker.random() >= NON_RESIDENT[site.tier]
    key, region = maker.patient(prenatal=prenatal, resident=resident)
    cost, paid = maker.amounts(*mix.VISIT_COSTS[site.tier], mix.VISIT_INSURANCE[site.tier])
    user, source, number, received = maker.sent(site, index)
    return (
        user, source, f"MZ{number:09d}", maker.layout.alliance_id, month, site.id, None, department, key,
        region, int(resident), int(site.in_county), row[0], cost, paid, int(tcm), received,
        maker.calendar.date(index),
    )  # fmt: skip


def _outside_visit(maker, index):
    """A resident's visit outside the county, as the insurance feed reports it."""
    month = maker.calendar.month[index]
    facility, region, _weight, tcm = maker.facility()
    row, _options, prenatal = maker.pick(
        maker.mix(("outside", month), mix.VISIT_DIAGNOSES, VISIT_COLUMN[mix.HOSPITAL], int(month[5:7]))
    )
    key, resident_region = maker.patient(prenatal=prenatal, resident=True)
    cost, paid = maker.amounts(*mix.OUTSIDE_VISIT_COST, mix.OUTSIDE_INSURANCE)
    user, source, number, received = maker.settled(month)
    return (
        user, source, f"YBMZ{number:09d}", maker.layout.alliance_id, month, None, facility, None, key,
        resident_region, 1, int(region == maker.layout.region), row[0], cost, paid, int(tcm), received,
        maker.calendar.date(index),
    )  # fmt: skip


# --- Admissions ------------------------------------------------------------------------------------
def admission_kinds(total, rng):
    """Who each admission is, in a shuffled order with exact shares: residents in the county,
    residents outside it (OUTSIDE_ADMISSIONS of residents'), other counties' residents."""
    residents = total / (
        1 + (1 - OUTSIDE_ADMISSIONS) * NON_RESIDENT_ADMISSIONS / (1 - NON_RESIDENT_ADMISSIONS)
    )
    outside = round(residents * OUTSIDE_ADMISSIONS)
    others = round((residents - outside) * NON_RESIDENT_ADMISSIONS / (1 - NON_RESIDENT_ADMISSIONS))
    kinds = [OUTSIDE] * outside + [NON_RESIDENT_KIND] * others + [RESIDENT] * (total - outside - others)
    rng.shuffle(kinds)
    return kinds


def admission_rows(layout, patients, rng, total, calendar):
    """`total` admissions discharged over the calendar's days (they count in that month)."""
    maker = RowMaker(layout, patients, rng, calendar)
    kinds = iter(admission_kinds(total, rng))
    weights = [
        mix.ADMISSION_MONTHS[day.month - 1]
        * mix.DISCHARGE_WEEKDAYS[day.weekday()]
        * calendar.holidays.get(day, 1.0)
        for day in calendar.days
    ]
    for index, count in enumerate(spread(total, weights)):
        cumulative, sites = maker.sites_on(index, "admission_weight")
        for site in rng.choices(sites, cum_weights=cumulative, k=count):
            kind = next(kinds)
            if kind == OUTSIDE:
                yield _outside_admission(maker, index)
            else:
                yield _admission(maker, site, index, resident=kind == RESIDENT)


def _stay(maker, index, row):
    """(admission date, discharge date) of a stay of the diagnosis' length ending on day `index`."""
    low, high = row[7]
    return maker.calendar.date(index, -maker.rng.randint(low, high)), maker.calendar.date(index)


def _admission(maker, site, index, *, resident):
    month = maker.calendar.month[index]
    row, options, prenatal = maker.pick(
        maker.mix(
            ("ward", site.code, month),
            mix.ADMISSION_DIAGNOSES,
            ADMISSION_COLUMN[site.tier],
            int(month[5:7]),
            site,
        )
    )
    department, tcm = options[int(maker.random() * len(options))]
    key, region = maker.patient(prenatal=prenatal, resident=resident)
    low, high = row[8]
    if site.tier == mix.BRANCH:  # a township stay costs less: the lower half of the range
        high = (low + high) / 2
    cost, paid = maker.amounts(low, high, mix.ADMISSION_INSURANCE[site.tier])
    user, source, number, received = maker.sent(site, index)
    return (
        user, source, f"ZY{number:09d}", maker.layout.alliance_id, month, site.id, None, department, key,
        region, int(resident), int(site.in_county), row[0], cost, paid, int(tcm), received,
        *_stay(maker, index, row),
    )  # fmt: skip


def _outside_admission(maker, index):
    """A resident's stay outside the county (转外就医), as the insurance feed reports it."""
    month = maker.calendar.month[index]
    facility, region, _weight, tcm = maker.facility()
    row, _options, prenatal = maker.pick(
        maker.mix(("outside-ward", month), mix.ADMISSION_DIAGNOSES, OUTSIDE_COLUMN, int(month[5:7]))
    )
    key, resident_region = maker.patient(prenatal=prenatal, resident=True)
    factor = (
        mix.OUTSIDE_COST_FACTOR[0]
        + (mix.OUTSIDE_COST_FACTOR[1] - mix.OUTSIDE_COST_FACTOR[0]) * maker.random()
    )
    low, high = row[8]
    cost, paid = maker.amounts(low * factor, high * factor, mix.OUTSIDE_INSURANCE)
    user, source, number, received = maker.settled(month)
    return (
        user, source, f"YBZY{number:09d}", maker.layout.alliance_id, month, None, facility, None, key,
        resident_region, 1, int(region == maker.layout.region), row[0], cost, paid, int(tcm), received,
        *_stay(maker, index, row),
    )  # fmt: skip
