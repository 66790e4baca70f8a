"""Pure generators of the demo county's identifiers and names: no database, only the random
source passed in, so the same seed gives the same values (and tests can check them alone)."""

import datetime

from stdnum.cn import ric, uscc

# GB 11714 organisation code (组织机构代码): weights of the eight body characters, mod 11.
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# Given-name characters by gender. Faker's zh_CN provider draws given names regardless of
# gender, which would show "王淑兰, male" in the demo; Faker still draws the characters.
GIVEN_MALE = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙林建国志文海东荣斐晨锋"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀英玲桂兰燕萍红梅琳洁婷雪慧颖倩丹佳欣悦怡璐晶莉薇琪莹瑶"


def organisation_code(body):
    """Append the GB 11714 check character to an 8-digit organisation code body."""
    total = sum(int(char) * weight for char, weight in zip(body, ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(region_code, serial):
    """A unified social credit code (统一社会信用代码, GB 32100) of a public institution (事业单位):
    registration authority 1 (机构编制), category 2, the county code, an organisation code and
    the check character computed by python-stdnum."""
    body = f"12{region_code}{organisation_code(f'47{serial:06d}')}"
    return body + uscc.calc_check_digit(body)


def resident_id(region_code, birth_date, sequence):
    """A resident ID number (GB 11643): county code, birth date, 3-digit sequence (odd for men,
    even for women) and the check digit computed by python-stdnum."""
    body = f"{region_code}{birth_date:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum ignores the placeholder last digit


def person_name(fake, *, male):
    """A Chinese name: a Faker surname (weighted like the population) and a gendered given name
    of one or two characters."""
    pool = GIVEN_MALE if male else GIVEN_FEMALE
    length = 1 if fake.random_int(0, 9) < 3 else 2
    return fake.last_name() + "".join(fake.random_elements(pool, length=length, unique=True))


def birth_date(rng, *, age_from, age_to, on):
    """A birth date of someone aged `age_from` to `age_to` (inclusive) on the date `on`."""
    latest = on - datetime.timedelta(days=round(age_from * 365.25))
    earliest = on - datetime.timedelta(days=round((age_to + 1) * 365.25) - 1)
    return earliest + datetime.timedelta(days=rng.randrange((latest - earliest).days + 1))


def licence_number(kind, *, region_code, year, serial):
    """A practising licence number (执业证书编码) in the shape of the issuing register, always
    9 to 30 digits (members.models.licence_number_validator):

    - `doctor`: 15 digits, 11 (a licensed physician, 执业医师), the county and a serial;
    - `assistant`: the same with 12, an assistant physician (执业助理医师);
    - `village`: 乡村医生执业证书, county, year and serial;
    - `nurse`: 护士执业证书, year, province and serial;
    - `pharmacist`: 执业药师注册证, prefecture, year and serial.
    """
    shapes = {
        "doctor": f"11{region_code}{serial:07d}",
        "assistant": f"12{region_code}{serial:07d}",
        "village": f"{region_code}{year}{serial:05d}",
        "nurse": f"{year}{region_code[:2]}{serial:06d}",
        "pharmacist": f"{region_code[:4]}{year}{serial:06d}",
    }
    return shapes[kind]
