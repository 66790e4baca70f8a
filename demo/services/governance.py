"""Governance of the demo county (DESIGN §3): the management committee (医管委) chaired by the
county head, meetings of the county government, the committee and the alliance board, and the
versions of the charter (章程) and responsibility list (权责清单).

The county government studies the alliance at least twice a year (source 003); in 2023 it met
only once, so the demo shows that warning. Every year up to the anchor's has its meetings; in
the anchor's year only those of the months before the anchor's have been held.
"""

import datetime

from alliance import services as alliance_services
from alliance.choices import GOVERNMENT_MEETINGS_PER_YEAR, CommitteePosition, DocumentKind, MeetingKind

from .context import FOUNDED
from .identifiers import person_name

GOVERNMENT_MEETINGS = {2020: 2, 2021: 2, 2022: 3, 2023: 1, 2024: 2, 2025: 2}  # later years: the rule
COMMITTEE_MEETINGS_PER_YEAR = 2
BOARD_MEETINGS_PER_YEAR = 4
# The county head changed at the 2022 general election of the county government (换届).
ELECTION = datetime.date(2022, 1, 1)
# (position, organisation and post, term): "founding" ends at ELECTION, "current" begins there.
COMMITTEE = (
    (CommitteePosition.CHAIR, "浦江县人民政府 县长", "founding"),
    (CommitteePosition.CHAIR, "浦江县人民政府 县长", "current"),
    (CommitteePosition.VICE_CHAIR, "浦江县人民政府 分管副县长", "whole"),
    (CommitteePosition.VICE_CHAIR, "浦江县卫生健康局 局长", "whole"),
    (CommitteePosition.MEMBER, "中共浦江县委机构编制委员会办公室 主任", "whole"),
    (CommitteePosition.MEMBER, "浦江县发展和改革局 局长", "whole"),
    (CommitteePosition.MEMBER, "浦江县财政局 局长", "whole"),
    (CommitteePosition.MEMBER, "浦江县人力资源和社会保障局 局长", "whole"),
    (CommitteePosition.MEMBER, "浦江县医疗保障局 局长", "whole"),
    (CommitteePosition.MEMBER, "浦江县人民医院 院长（医共体总院长）", "whole"),
    (CommitteePosition.MEMBER, "浦江县中医院 院长", "whole"),
    (CommitteePosition.SECRETARY, "浦江县卫生健康局 副局长", "whole"),
)
TERMS = {"founding": (FOUNDED, ELECTION), "current": (ELECTION, None), "whole": (FOUNDED, None)}
DECISIONS = (
    "审议医共体年度工作报告，明确下一年度重点任务",
    "研究医保基金总额付费与结余留用分配方案",
    "落实县级医院医生下沉分院派驻制度，明确派驻人数与考核要求",
    "统一医共体内人员招聘与岗位设置，编制统筹使用",
    "推进双向转诊，县级医院预留三分之一以上专家号源给基层",
    "研究医共体财务统一管理和药品耗材统一采购配送",
    "部署家庭医生签约服务扩面提质工作",
)
DOCUMENTS = (
    (DocumentKind.CHARTER, "浦江县医共体章程", FOUNDED, "医管委审议通过"),
    (DocumentKind.CHARTER, "浦江县医共体章程（2022年修订）", datetime.date(2022, 3, 1), "按换届后医管委组成修订"),
    (DocumentKind.CHARTER, "浦江县医共体章程（2024年修订）", datetime.date(2025, 1, 1), "增加医保结余留用条款"),
    (DocumentKind.RESPONSIBILITY_LIST, "浦江县医共体建设部门权责清单", FOUNDED, "明确县政府各部门职责"),
    (DocumentKind.RESPONSIBILITY_LIST, "浦江县医共体建设部门权责清单（2023年版）", datetime.date(2023, 6, 1), "新增医保局、人社局事项"),
)  # fmt: skip


def record_governance(ctx):
    """Committee members, meetings of every kind and the document versions."""
    members = _committee(ctx)
    rng = ctx.rng("meetings")
    _meeting(ctx, MeetingKind.COMMITTEE, FOUNDED, "医共体管理委员会成立大会", members, rng)
    for year in ctx.dates.years:
        _meetings_of_year(ctx, year, members, rng)
    for kind, title, effective_on, notes in DOCUMENTS:
        alliance_services.publish_document(
            alliance=ctx.alliance,
            kind=kind,
            title=title,
            effective_on=effective_on,
            notes=notes,
            acting_user=ctx.acting_user,
        )


def _committee(ctx):
    fake = ctx.faker("committee")
    members = []
    for position, organisation, term in COMMITTEE:
        valid_from, valid_to = TERMS[term]
        members.append(
            alliance_services.add_committee_member(
                alliance=ctx.alliance,
                name=person_name(fake, male=fake.random_int(0, 9) < 7),
                position=position,
                organisation=organisation,
                valid_from=valid_from,
                valid_to=valid_to,
                acting_user=ctx.acting_user,
            )
        )
    return members


def _meetings_of_year(ctx, year, members, rng):
    """The government meetings of GOVERNMENT_MEETINGS, two committee and four board meetings,
    held from January to October; in the anchor's year, only in the months before its month
    (a year in progress may not have met the rule yet)."""
    last_month = 10 if year < ctx.dates.anchor.year else min(10, ctx.dates.anchor.month - 1)
    plan = (
        (
            MeetingKind.GOVERNMENT,
            GOVERNMENT_MEETINGS.get(year, GOVERNMENT_MEETINGS_PER_YEAR),
            "县政府常务会议专题研究医共体建设（{year}年第{n}次）",
        ),
        (MeetingKind.COMMITTEE, COMMITTEE_MEETINGS_PER_YEAR, "医共体管理委员会{year}年第{n}次全体会议"),
        (MeetingKind.BOARD, BOARD_MEETINGS_PER_YEAR, "医共体理事会{year}年第{n}次例会"),
    )
    for kind, count, title in plan:
        months = sorted(rng.sample(range(1, last_month + 1), min(count, last_month)))
        for number, month in enumerate(months, start=1):
            held_on = datetime.date(year, month, rng.randint(5, 25))
            _meeting(ctx, kind, held_on, title.format(year=year, n=number), members, rng)


def _meeting(ctx, kind, held_on, title, members, rng):
    attendees = [
        m for m in members if m.valid_from <= held_on and (m.valid_to is None or held_on < m.valid_to)
    ]
    alliance_services.record_meeting(
        alliance=ctx.alliance,
        kind=kind,
        held_on=held_on,
        title=title,
        attendees="、".join(member.name for member in attendees),
        decisions="；".join(rng.sample(DECISIONS, 2)),
        acting_user=ctx.acting_user,
    )
