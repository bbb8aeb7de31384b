"""Fake patient identities: names, PRC resident ID numbers with a valid check digit, phones, addresses, dates.

The ID numbers are built like real ones (region code + birth date + sequence with the sex in its parity +
ISO 7064 MOD 11-2 check digit) so the de-identifier is tested on the real shape, checksum included.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from cmedins.contracts.prc_id import id_check_digit
from cmedins.sample.pools import load_pool


@dataclass(frozen=True)
class Identity:
    name: str
    surname: str
    sex: str  # 男 | 女
    age: int
    birth_date: date
    admission_date: date
    id_number: str
    phone: str  # canonical 11-digit mobile
    phone_display: str  # as a clerk typed it (spaces, dashes, +86)
    landline: str
    address: str
    birthplace: str
    hospital: str
    record_number: str  # 病案号
    inpatient_number: str  # 住院号
    relative_name: str
    relative_relation: str  # 之子, 之妻 ...
    occupation: str
    ethnicity: str
    marital: str

    @property
    def partial_name(self) -> str:
        """The way notes half-hide a name: 张某某 / 张某."""
        return self.surname + ("某某" if len(self.name) - len(self.surname) > 1 else "某")


def make_identity(rng: random.Random, *, sex: str, age: int) -> Identity:
    pool = load_pool("identities")
    region = rng.choice(pool["regions"])
    surname = rng.choice(pool["surnames"])
    name = surname + rng.choice(pool["given_male" if sex == "男" else "given_female"])
    admission = date(2021, 1, 1) + timedelta(days=rng.randrange(4 * 365))
    birth = _birth_date(rng, age, admission)
    sequence = 2 * rng.randrange(500) + (1 if sex == "男" else 0)  # odd = male, even = female
    first17 = f"{region['code']}{birth:%Y%m%d}{sequence:03d}"
    mobile = rng.choice(pool["mobile_prefixes"]) + f"{rng.randrange(10**8):08d}"
    relation = rng.choice(pool["relations"])
    city = region["city"] or region["province"]
    return Identity(
        name=name,
        surname=surname,
        sex=sex,
        age=age,
        birth_date=birth,
        admission_date=admission,
        id_number=first17 + id_check_digit(first17),
        phone=mobile,
        phone_display=_display_phone(rng, mobile),
        landline=_landline(rng, region["area"]),
        address=_address(rng, region),
        birthplace=f"{region['province']}{region['city']}{region['district']}",
        hospital=rng.choice(pool["hospital_patterns"]).format(city=city, province=region["province"],
                                                              district=region["district"]),
        record_number=f"{rng.randrange(10**5, 10**7)}",
        inpatient_number=f"ZY{admission.year}{rng.randrange(10**6):06d}",
        relative_name=rng.choice(pool["surnames"]) + rng.choice(pool["given_male"] + pool["given_female"]),
        relative_relation=relation,
        occupation="学生" if age < 18 else ("退休" if age >= 65 and rng.random() < 0.6 else rng.choice(pool["occupations"])),
        ethnicity=rng.choice(pool["ethnicities"]),
        marital="未婚" if age < 22 else rng.choice(pool["marital"]),
    )


def _birth_date(rng: random.Random, age: int, on: date) -> date:
    """A birth date that makes the patient exactly `age` on the admission date."""
    latest = _years_before(on, age)
    earliest = _years_before(on, age + 1) + timedelta(days=1)
    return earliest + timedelta(days=rng.randrange((latest - earliest).days + 1))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def _display_phone(rng: random.Random, mobile: str) -> str:
    style = rng.randrange(6)
    if style == 0:
        return f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"
    if style == 1:
        return f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"
    if style == 2:
        return f"+86 {mobile}"
    return mobile


def _landline(rng: random.Random, area: str) -> str:
    digits = 8 if len(area) == 3 else 7  # big cities (010, 021 ...) have 8-digit local numbers
    return f"{area}-{rng.randrange(2, 9)}{rng.randrange(10 ** (digits - 1)):0{digits - 1}d}"


def _address(rng: random.Random, region: dict) -> str:
    head = f"{region['province']}{region['city']}{region['district']}"
    if region["towns"] and rng.random() < 0.5:
        town = rng.choice(sorted(region["towns"]))
        village = rng.choice(region["towns"][town])
        return f"{head}{town}{village}{rng.randrange(1, 9)}组{rng.randrange(1, 80)}号"
    street = rng.choice(region["streets"])
    return (f"{head}{street}{rng.randrange(1, 300)}号{rng.randrange(1, 20)}号楼"
            f"{rng.randrange(1, 6)}单元{rng.randrange(1, 30)}0{rng.randrange(1, 5)}室")


def format_date(rng: random.Random, value: date) -> str:
    """A date the way different clerks write it."""
    style = rng.randrange(4)
    if style == 0:
        return f"{value.year}年{value.month:02d}月{value.day:02d}日"
    if style == 1:
        return f"{value.year}年{value.month}月{value.day}日"
    if style == 2:
        return f"{value.year}.{value.month}.{value.day}"
    return value.isoformat()
