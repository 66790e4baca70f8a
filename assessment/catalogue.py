"""The indicator catalogue the data supports (issue 14 point 3), loaded once by a data migration
through `services.load_catalogue`. Targets come from ../shared/domain/indicators-and-standards.md
§a.2; the official numerator/denominator wording is not published (the document marks every
formula as inference), which is why these are data the bureau can revise.

Resident-based shares have their denominator (care anywhere, from the insurance feed) at the
alliance only: out-of-county rows belong to no institution, so they apply to the alliance.
"""

import datetime
from decimal import Decimal

EFFECTIVE_FROM = datetime.date(2020, 1, 1)
ALL_LEVELS = {"for_alliance": True, "for_township": True, "for_institution": True}
ALLIANCE_ONLY = {"for_alliance": True, "for_township": False, "for_institution": False}
# The lead hospital's own figures, and the alliance's (a township has no lead-hospital slots).
LEAD = {"for_alliance": True, "for_township": False, "for_institution": True}
COST = "#{admissions.in_county.cost} ÷ #{admissions.in_county}"
COST_A_YEAR_EARLIER = (
    "#{admissions.in_county.cost}.periodOffset(-12) ÷ #{admissions.in_county}.periodOffset(-12)"
)
SOURCES = {
    "admissions": "医院信息系统（HIS）出院记录与医保结算数据（县域外就医）",
    "visits": "医院信息系统（HIS）门急诊记录",
    "insurance": "医保结算数据：门急诊与住院记录的统筹基金支付金额",
    "slots": "本系统号源池：牵头医院发布的门诊号源",
    "beds": "本系统床位池与成员单位实际开放床位",
    "referrals": "本系统双向转诊记录（提交时间）",
    "secondments": "本系统人员派驻（下沉）记录",
}


def _entry(
    code, name_zh, name_en, numerator, denominator, unit, direction, levels, source, definition, **extra
):
    return {
        "code": code,
        "name_zh": name_zh,
        "name_en": name_en,
        "numerator": numerator,
        "denominator": denominator,
        "unit": unit,
        "direction": direction,
        "data_source": SOURCES[source],
        "definition": definition,
        "decimals": extra.pop("decimals", 2),
        **levels,
        **extra,
    }


def _at_least(value):
    return {"target": Decimal(value), "target_comparison": "gte"}


ENTRIES = (
    _entry(
        "county_inpatient_share", "县域内住院人次占比", "Share of residents' admissions treated in the county",
        "#{admissions.residents.in_county}", "#{admissions.residents.all}",
        "percent", "higher_better", ALLIANCE_ONLY, "admissions",
        "县域内医疗机构出院的本县参保居民人次 ÷ 本县参保居民在任何地点的出院人次 × 100%（按出院月份）。",
        target=Decimal(85), target_comparison="approx", target_tolerance=Decimal(2),
    ),
    _entry(
        "primary_visit_share", "基层诊疗人次占比", "Primary-care share of visits",
        "#{visits.in_county.primary}", "#{visits.in_county}",
        "percent", "higher_better", ALLIANCE_ONLY, "visits",
        "县域内基层医疗卫生机构（乡镇卫生院、村卫生室）诊疗人次 ÷ 县域内医疗机构诊疗人次 × 100%"
        "（即县域内基层医疗卫生机构诊疗人次占比）。",
        **_at_least(65),
    ),
    _entry(
        "lead_opd_slot_release_ratio", "牵头医院门诊号源下沉比例", "Lead-hospital outpatient slots released to primary care",
        "#{slots.lead.reserved}", "#{slots.lead.published}",
        "percent", "higher_better", LEAD, "slots",
        "牵头医院预留给家庭医生团队和基层医疗卫生机构的门诊号源数 ÷ 牵头医院发布的门诊号源总数 × 100%（目标不低于1/3）。",
        **_at_least("33.33"),
    ),
    _entry(
        "lead_bed_release_ratio", "住院床位下沉比例", "Lead-hospital inpatient beds released to primary care",
        "#{beds.lead.reserved_days}", "#{beds.lead.open_days}",
        "percent", "higher_better", LEAD, "beds",
        "牵头医院预留给基层转诊患者的床日数 ÷ 牵头医院实际开放床日数 × 100%（即日均预留床位 ÷ 实际开放床位，目标不低于1/4）。",
        **_at_least(25),
    ),
    _entry(
        "up_referrals", "上转人次", "Up-referrals",
        "#{referrals.up.submitted}", "",
        "count", "monitor", ALL_LEVELS, "referrals",
        "当期提交的上转人次（村→乡、乡→县、县→县外），按转出单位统计。", decimals=0,
    ),
    _entry(
        "down_referrals", "下转人次", "Down-referrals",
        "#{referrals.down.submitted}", "",
        "count", "higher_better", ALL_LEVELS, "referrals",
        "当期提交的下转人次（县→乡、县→村、乡→村），按转出单位统计。", decimals=0,
    ),
    _entry(
        "down_up_referral_ratio", "下转与上转人次比", "Down-referrals per up-referral",
        "#{referrals.down.submitted}", "#{referrals.up.submitted}",
        "ratio", "higher_better", ALL_LEVELS, "referrals",
        "当期下转人次 ÷ 当期上转人次。",
    ),
    _entry(
        "hi_fund_in_county_share", "医保基金县域内支出占比", "Insurance-fund share spent in the county",
        "#{visits.insurance.residents.in_county} + #{admissions.insurance.residents.in_county}",
        "#{visits.insurance.residents.all} + #{admissions.insurance.residents.all}",
        "percent", "higher_better", ALLIANCE_ONLY, "insurance",
        "本县参保居民在县域内医疗机构就医的医保基金支出 ÷ 本县参保居民医保基金总支出 × 100%（门急诊与住院合计）。",
    ),
    _entry(
        "primary_hi_fund_share", "县域内基层医保基金支出占比", "Primary-care share of the in-county insurance fund",
        "#{visits.insurance.residents.primary} + #{admissions.insurance.residents.primary}",
        "#{visits.insurance.residents.in_county} + #{admissions.insurance.residents.in_county}",
        "percent", "higher_better", ALLIANCE_ONLY, "insurance",
        "县域内基层医疗卫生机构的本县参保居民医保基金支出 ÷ 县域内医疗机构的本县参保居民医保基金支出 × 100%"
        "（即县域内基层医疗卫生机构医保基金支出占比；分母口径各地不一）。",
    ),
    _entry(
        "inpatient_cost_per_case", "住院次均费用", "Inpatient cost per discharge",
        "#{admissions.in_county.cost}", "#{admissions.in_county}",
        "yuan", "lower_better", ALL_LEVELS, "admissions",
        "县域内医疗机构出院患者住院总费用 ÷ 出院人次（元，按出院月份）。",
    ),
    _entry(
        "inpatient_cost_growth", "住院次均费用增长率", "Growth of the inpatient cost per discharge",
        f"{COST} − {COST_A_YEAR_EARLIER}", COST_A_YEAR_EARLIER,
        "percent", "lower_better", ALL_LEVELS, "admissions",
        "（本期住院次均费用 − 上年同期住院次均费用）÷ 上年同期住院次均费用 × 100%。",
    ),
    _entry(
        "tcm_visit_share", "中医类诊疗量占比", "TCM share of visits",
        "#{visits.in_county.tcm}", "#{visits.in_county}",
        "percent", "higher_better", ALL_LEVELS, "visits",
        "县域内医疗机构中医类诊疗人次 ÷ 县域内医疗机构诊疗人次 × 100%。",
    ),
    _entry(
        "stationed_senior_doctors", "派驻6个月以上中级及以上医师人数", "Senior doctors stationed six months or more",
        "#{secondments.six_months}", "",
        "count", "higher_better", ALL_LEVELS, "secondments",
        "牵头医院派驻基层的中级及以上职称医师中，当年累计派驻满6个月的人数（巡诊不计，只计当年天数），按派出单位统计。",
        decimals=0,
    ),
)  # fmt: skip

# The amber band of each target (issue 15 point 1): how far beyond the target a miss is amber, in
# the indicator's unit; set by migration 0005 on the loaded definitions, which predate the field.
WARNING_BANDS = {
    "county_inpatient_share": Decimal(3),
    "primary_visit_share": Decimal(5),
    "lead_opd_slot_release_ratio": Decimal("3.33"),
    "lead_bed_release_ratio": Decimal(5),
}
