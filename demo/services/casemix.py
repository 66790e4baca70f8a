"""The case mix of the demo county's activity (issue 5 point 5): pure data, no database.

Diagnoses (ICD-10, the codes Chinese HIS systems send) with their weights per tier of
institution, the departments (诊疗科目代码) that treat them in order of preference, and the
seasons: a winter respiratory peak (流感季, December to February), summer gastroenteritis, fewer
visits at weekends and over the public holidays (the Spring Festival, National Day) of whichever
year the activity covers. Costs follow the tier: a village visit ¥30-80, a township one ¥80-200,
a county one ¥200-600; admissions ¥3,000-15,000 with insurance paying 55-75% in the county.
"""

import datetime

RESPIRATORY, SUMMER, STEADY = "respiratory", "summer", "steady"
# Month factors (January first) of each seasonal pattern.
SEASONS = {
    RESPIRATORY: (1.8, 1.5, 1.2, 1.0, 0.8, 0.7, 0.65, 0.65, 0.8, 0.9, 1.3, 1.7),
    SUMMER: (0.7, 0.7, 0.8, 0.9, 1.1, 1.4, 1.6, 1.6, 1.2, 0.9, 0.8, 0.7),
    STEADY: (1.0,) * 12,
}
# All visits together: winter busiest, summer quietest (Spring Festival lowers February).
VISIT_MONTHS = (1.12, 0.9, 1.05, 1.0, 0.97, 0.93, 0.88, 0.9, 0.97, 0.95, 1.03, 1.12)
ADMISSION_MONTHS = (1.1, 0.92, 1.02, 1.0, 0.97, 0.95, 0.93, 0.95, 0.98, 0.97, 1.03, 1.1)
# Monday first: outpatient clinics are busiest on Monday; fewer discharges at weekends.
VISIT_WEEKDAYS = (1.25, 1.08, 1.02, 1.0, 1.0, 0.72, 0.55)
DISCHARGE_WEEKDAYS = (1.05, 1.1, 1.1, 1.1, 1.15, 0.85, 0.55)
# Public holidays as the State Council's notices (国务院办公厅) lay them out, e.g. in 2026: the
# solar ones on the same days every year ((month, day), days, factor): 元旦, 清明, 劳动节, 国庆.
SOLAR_HOLIDAYS = (((1, 1), 3, 0.7), ((4, 4), 3, 0.75), ((5, 1), 5, 0.75), ((10, 1), 7, 0.6))
# The lunar ones from their festival (days from it, factor): 春节 from two days before New
# Year's Day to the sixth after, 端午 and 中秋 three days from the festival.
LUNAR_HOLIDAYS = ((range(-2, 7), 0.45), (range(3), 0.75), (range(3), 0.75))
# The festivals' dates (春节, 端午, 中秋) by year; a year past the table has only the solar holidays.
LUNAR_FESTIVALS = {
    2025: ((1, 29), (5, 31), (10, 6)),
    2026: ((2, 17), (6, 19), (9, 25)),
    2027: ((2, 6), (6, 9), (9, 15)),
    2028: ((1, 26), (5, 28), (10, 3)),
    2029: ((2, 13), (6, 16), (9, 22)),
    2030: ((2, 3), (6, 5), (9, 12)),
    2031: ((1, 23), (6, 24), (10, 1)),
    2032: ((2, 11), (6, 12), (9, 19)),
    2033: ((1, 31), (6, 1), (9, 8)),
    2034: ((2, 19), (6, 20), (9, 27)),
    2035: ((2, 8), (6, 10), (9, 16)),
}


def holidays(years):
    """{day: visit factor} of the public holidays of `years`; where two overlap (中秋 in the
    National Day week), the lower factor."""
    factors = {}

    def add(day, factor):
        factors[day] = min(factor, factors.get(day, factor))

    for year in years:
        for (month, first), days, factor in SOLAR_HOLIDAYS:
            for n in range(days):
                add(datetime.date(year, month, first) + datetime.timedelta(days=n), factor)
        festivals = LUNAR_FESTIVALS.get(year, ())
        for (month, day), (offsets, factor) in zip(festivals, LUNAR_HOLIDAYS[: len(festivals)], strict=True):
            for n in offsets:
                add(datetime.date(year, month, day) + datetime.timedelta(days=n), factor)
    return factors


VILLAGE, BRANCH, HOSPITAL = "village", "branch", "hospital"
GP = "02"  # 全科医疗科: the general practice of every branch and village clinic
TCM_SUBJECTS = frozenset({"50", "52"})  # 中医科, 中西医结合科
PRENATAL = frozenset({"Z34.9", "O80", "O82", "N76.0", "D25.9", "C50.9"})  # women's diagnoses

# (ICD-10, name, departments by preference, weight at a village clinic / branch / hospital, season)
VISIT_DIAGNOSES = (
    ("J06.9", "急性上呼吸道感染", ("03.01", "07", "03", "20", GP, "50"), 24, 15, 8, RESPIRATORY),
    ("J20.9", "急性支气管炎", ("03.01", "07", "03", GP), 7, 6, 4, RESPIRATORY),
    ("J18.9", "肺炎", ("03.01", "07", "03", GP), 0.5, 2, 3, RESPIRATORY),
    ("R50.9", "发热", ("07", "20", "03", GP), 2, 2, 2, RESPIRATORY),
    ("J44.9", "慢性阻塞性肺疾病", ("03.01", "03", GP), 1, 2, 2, RESPIRATORY),
    ("I10", "原发性高血压", ("03.04", "03", GP, "50"), 20, 14, 8, STEADY),
    ("E11.9", "2型糖尿病", ("03.07", "03", GP), 8, 8, 6, STEADY),
    ("I25.1", "冠状动脉粥样硬化性心脏病", ("03.04", "03", GP), 2, 3, 4, STEADY),
    ("I63.9", "脑梗死", ("03.03", "03", "21", GP), 1, 2, 3, STEADY),
    ("K29.7", "胃炎", ("03.02", "03", GP, "50"), 8, 7, 6, STEADY),
    ("K52.9", "胃肠炎", ("03.02", "07", "03", "20", GP), 3, 3, 3, SUMMER),
    ("M54.5", "腰痛", ("04.03", "21", "27", "50", "04", GP), 6, 5, 4, STEADY),
    ("M17.9", "膝关节病", ("04.03", "21", "50", GP), 3, 3, 3, STEADY),
    ("S93.4", "踝关节扭伤", ("04.03", "04", "20", GP), 1.5, 2, 1.5, STEADY),
    ("S52.5", "桡骨下端骨折", ("04.03", "04", "20"), 0, 0.8, 1.5, STEADY),
    ("N39.0", "尿路感染", ("04.04", "03", "05.01", GP), 2, 3, 3, STEADY),
    ("N76.0", "急性阴道炎", ("05.01", "05", "06"), 0, 1.5, 2, STEADY),
    ("Z34.9", "正常妊娠监督", ("05.02", "05", "06"), 0, 2, 4, STEADY),
    ("Z00.0", "一般健康检查", ("01", "09", GP), 3, 6, 3, STEADY),
    ("H10.9", "结膜炎", ("10", GP), 1, 1, 2, STEADY),
    ("K02.9", "龋病", ("12",), 0, 1.5, 3, STEADY),
    ("L30.9", "皮炎", ("13", GP, "03"), 2, 2, 2, STEADY),
    ("F32.9", "抑郁发作", ("15", "03"), 0, 0.3, 1, STEADY),
    ("C34.9", "肺恶性肿瘤", ("19", "03.01", "04.05"), 0, 0, 1, STEADY),
)

# (ICD-10, name, departments by preference, weight at a branch / hospital / outside the county,
#  season, length of stay in days (from, to), cost in yuan in the county (from, to))
ADMISSION_DIAGNOSES = (
    ("J18.9", "肺炎", ("03.01", "07", "03", GP), 18, 12, 4, RESPIRATORY, (6, 10), (4000, 9000)),
    ("J44.1", "慢性阻塞性肺疾病急性加重", ("03.01", "03", GP), 10, 6, 2, RESPIRATORY, (7, 12), (5000, 10000)),
    ("I63.9", "脑梗死", ("03.03", "03", "21", GP), 8, 9, 6, STEADY, (10, 15), (8000, 15000)),
    ("I61.9", "脑内出血", ("03.03", "04.02", "28"), 0, 2, 4, STEADY, (14, 21), (12000, 15000)),
    ("I10", "原发性高血压", ("03.04", "03", GP), 8, 3, 1, STEADY, (5, 8), (3000, 6000)),
    ("E11.9", "2型糖尿病", ("03.07", "03", GP), 8, 4, 1, STEADY, (6, 10), (3500, 7000)),
    ("I20.0", "不稳定型心绞痛", ("03.04", "03"), 3, 6, 6, STEADY, (5, 9), (6000, 15000)),
    ("I21.9", "急性心肌梗死", ("03.04", "28"), 0, 1.5, 6, STEADY, (7, 12), (12000, 15000)),
    ("I50.9", "心力衰竭", ("03.04", "03", "28", GP), 5, 4, 2, RESPIRATORY, (7, 12), (6000, 12000)),
    ("K29.7", "胃炎", ("03.02", "03", GP, "50"), 6, 2, 0.5, STEADY, (4, 7), (3000, 5000)),
    ("K52.9", "胃肠炎", ("07", "03.02", "03", GP), 3, 2, 0, SUMMER, (3, 5), (3000, 5000)),
    ("K80.2", "胆囊结石", ("04.01", "04"), 2, 5, 3, STEADY, (5, 8), (8000, 14000)),
    ("K35.8", "急性阑尾炎", ("04.01", "04"), 2, 4, 1, STEADY, (4, 7), (6000, 10000)),
    ("N39.0", "尿路感染", ("04.04", "03.06", "03", GP), 3, 2, 0.5, STEADY, (4, 7), (3000, 6000)),
    ("N20.0", "肾结石", ("04.04", "04"), 1, 3, 1.5, STEADY, (3, 6), (5000, 12000)),
    ("M51.2", "腰椎间盘突出", ("04.03", "21", "50", "27", "04"), 3, 4, 2, STEADY, (7, 12), (6000, 14000)),
    ("S52.5", "桡骨下端骨折", ("04.03", "04"), 1, 2, 1, STEADY, (5, 9), (6000, 12000)),
    ("S72.0", "股骨颈骨折", ("04.03", "04"), 0, 2, 2, STEADY, (10, 16), (12000, 15000)),
    ("S06.9", "颅脑损伤", ("04.02", "04", "28"), 0, 1.5, 3, STEADY, (10, 20), (10000, 15000)),
    ("O80", "单胎顺产", ("05.02", "05"), 2, 6, 2, STEADY, (2, 4), (3000, 5000)),
    ("O82", "剖宫产术分娩", ("05.02", "05"), 0, 3, 2, STEADY, (4, 7), (6000, 10000)),
    ("D25.9", "子宫平滑肌瘤", ("05.01", "05"), 0, 2, 2, STEADY, (5, 8), (7000, 12000)),
    ("C34.9", "肺恶性肿瘤", ("19", "03.01", "04.05"), 0, 2, 12, STEADY, (8, 14), (10000, 15000)),
    ("C16.9", "胃恶性肿瘤", ("19", "04.01", "03.02"), 0, 1.5, 8, STEADY, (10, 16), (10000, 15000)),
    ("C50.9", "乳房恶性肿瘤", ("19", "04.01"), 0, 1, 6, STEADY, (8, 14), (10000, 15000)),
)

# Cost of a visit in yuan and the share insurance pays, by tier (基层 pays the most).
VISIT_COSTS = {VILLAGE: (30, 80), BRANCH: (80, 200), HOSPITAL: (200, 600)}
VISIT_INSURANCE = {VILLAGE: (0.60, 0.75), BRANCH: (0.50, 0.65), HOSPITAL: (0.35, 0.50)}
OUTSIDE_VISIT_COST = (300, 1500)
ADMISSION_INSURANCE = {BRANCH: (0.70, 0.75), HOSPITAL: (0.55, 0.70)}
# Out of the county (转外就医): tertiary hospitals cost more and insurance pays a smaller share.
OUTSIDE_COST_FACTOR = (1.5, 2.5)
OUTSIDE_INSURANCE = (0.45, 0.60)

# Where residents are treated outside the county, as the insurance feed names it: the national
# medical-insurance code of the designated facility (定点医疗机构代码), name, region, level, weight.
OUTSIDE_FACILITIES = (
    ("H33070200011", "金华市中心医院", "330702", "tertiary", 30),
    ("H33070200027", "金华市人民医院", "330702", "tertiary", 8),
    ("H33078200016", "义乌市中心医院", "330782", "tertiary", 15),
    ("H33010200003", "浙江大学医学院附属第一医院", "330102", "tertiary", 15),
    ("H33010200005", "浙江大学医学院附属第二医院", "330102", "tertiary", 8),
    ("H33010500021", "浙江省人民医院", "330105", "tertiary", 6),
    ("H33010500034", "浙江省肿瘤医院", "330105", "tertiary", 6),
    ("H33010200012", "浙江省中医院", "330102", "tertiary", 4),
    ("H33078100009", "兰溪市人民医院", "330781", "secondary", 4),
    ("H31010400002", "复旦大学附属肿瘤医院", "310104", "tertiary", 4),
)
# Neighbouring counties whose residents come to the county's hospitals (义乌, 兰溪, 诸暨, 桐庐, 建德).
NEIGHBOUR_REGIONS = ("330782", "330781", "330681", "330122", "330182")


def season_factor(season, month):
    return SEASONS[season][month - 1]
