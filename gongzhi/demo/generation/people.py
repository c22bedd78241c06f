"""Invented people: names, checksum-valid ID numbers, unique mobile numbers, plausible households."""

from __future__ import annotations

import bisect
import datetime
import itertools
import random
from array import array
from collections.abc import Set
from dataclasses import dataclass

from gongzhi.core.validators import id_check_digit
from gongzhi.demo.generation.plan import load_data

# Ages are counted from a fixed day, not from today, so a seed gives the same people on any day.
REFERENCE_DATE = datetime.date(2026, 1, 1)
_EPOCH = datetime.date(1900, 1, 1).toordinal()
_DAYS = REFERENCE_DATE.toordinal() - _EPOCH

# Where the floating population comes from: other counties of 甘肃 and a few big cities (GB/T 2260 codes).
ORIGIN_CODES = (
    "621121", "621122", "621123", "621124", "621125", "621126", "620421", "620422", "620423", "620521",
    "620522", "620523", "620524", "622921", "620621", "630102", "640104", "610102", "110101", "310101",
)
# Generated numbers never start with 199: the demo residents' numbers do, so they cannot collide.
PHONE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156",
    "157", "158", "159", "166", "173", "175", "176", "177", "178", "180", "181", "182", "183", "185", "186",
    "187", "188", "189", "191", "193",
)


class NameMaker:
    """Chinese names: surname by frequency, given name by the fashion of the birth year."""

    def __init__(self) -> None:
        data = load_data("names.json")
        self.surnames = [s for s, _, _ in data["surnames"]]
        self._cum = list(itertools.accumulate(w for _, _, w in data["surnames"]))
        self.male_chars, self.female_chars = data["given_chars_male"], data["given_chars_female"]
        self.old = {"M": data["given_old_male"], "F": data["given_old_female"]}
        self.young = {"M": data["given_young_male"], "F": data["given_young_female"]}

    def surname(self, rng: random.Random, dominant: tuple[str, ...] = ()) -> str:
        if dominant and rng.random() < 0.55:
            return rng.choice(dominant)
        return self.surnames[bisect.bisect(self._cum, rng.random() * self._cum[-1])]

    def given(self, rng: random.Random, gender: str, birth_year: int) -> str:
        chars = self.male_chars if gender == "M" else self.female_chars
        roll = rng.random()
        if birth_year < 1966 and roll < 0.6:
            return rng.choice(self.old[gender])
        if birth_year >= 2000 and roll < 0.5:
            return rng.choice(self.young[gender])
        if roll < 0.75:
            return rng.choice(chars) + rng.choice(chars)
        return rng.choice(chars)


class IdAllocator:
    """Unique ID numbers: area code + birth date + 3-digit sequence (odd for men) + check digit.

    One small counter array per (area, gender) instead of a set of every number issued keeps a million
    people in a few megabytes.
    """

    def __init__(self, reserved: Set[str] = frozenset()) -> None:
        self._counters: dict[tuple[str, str], array] = {}
        self._reserved = reserved

    def issue(self, area: str, birth: datetime.date, gender: str) -> str:
        counters = self._counters.get((area, gender))
        if counters is None:
            counters = self._counters[(area, gender)] = array("H", bytes(2 * (_DAYS + 400)))
        day = birth.toordinal() - _EPOCH
        while True:
            n = counters[day]
            if n >= 500:  # every sequence of that day is taken: the next day will do
                day += 1
                continue
            counters[day] = n + 1
            # A fixed permutation of 0..499 so sequences look scattered like real ones, not 000, 001, …
            seq = ((n * 211 + day) % 500) * 2 + (1 if gender == "M" else 0)
            date = datetime.date.fromordinal(day + _EPOCH)
            body = f"{area}{date:%Y%m%d}{seq:03d}"
            value = body + id_check_digit(body)
            if value not in self._reserved:
                return value


class PhoneAllocator:
    """Unique mobile numbers: n ↦ (n·A + B) mod (prefixes × 10⁸) is a bijection (A is coprime with 2, 5
    and 7), so numbers never repeat and consecutive people do not get neighbouring numbers."""

    _A = 2654435761

    def __init__(self, rng: random.Random) -> None:
        self._space = len(PHONE_PREFIXES) * 10**8
        self._offset = rng.randrange(self._space)
        self._n = 0

    def issue(self) -> str:
        value = (self._n * self._A + self._offset) % self._space
        self._n += 1
        prefix, body = divmod(value, 10**8)
        return f"{PHONE_PREFIXES[prefix]}{body:08d}"


@dataclass(slots=True)
class Person:
    name: str
    gender: str
    birth: datetime.date
    relation: str
    id_number: str = ""
    phone: str = ""


def birth_for_age(rng: random.Random, age: int) -> datetime.date:
    return datetime.date.fromordinal(REFERENCE_DATE.toordinal() - age * 365 - rng.randrange(365) - age // 4)


def _other(gender: str) -> str:
    return "F" if gender == "M" else "M"


def household_members(rng: random.Random, names: NameMaker, size: int, *, floating: bool,
                      dominant: tuple[str, ...] = (), head: Person | None = None) -> list[Person]:
    """A family of `size`: head, usually a spouse, then children, parents, a daughter-in-law, grandchildren
    as fits the head's age. `head` replaces the invented head (the demo residents)."""
    if head is not None:
        head_gender = head.gender
        head_age = REFERENCE_DATE.year - head.birth.year
    else:
        head_gender = "M" if rng.random() < 0.8 else "F"
        if floating:
            head_age = rng.randint(20, 50)
        elif size == 1:
            head_age = rng.randint(22, 88)
        else:
            head_age = rng.randint(28, 80)
    head_surname = head.name[0] if head is not None else names.surname(rng, dominant)
    people = [("head", head_gender, head_age, head_surname)]
    family_surname = head_surname
    remaining = size - 1
    if remaining and rng.random() < 0.92:
        spouse_surname = names.surname(rng)
        people.append(("spouse", _other(head_gender), max(20, min(95, head_age + rng.randint(-6, 4))),
                       spouse_surname))
        if head_gender == "F":
            family_surname = spouse_surname  # children take the father's surname
        remaining -= 1
    if head_age >= 56:
        first_child_age = max(18, head_age - rng.randint(22, 34))
        first_child_gender = "M" if rng.random() < 0.7 else "F"
        pattern = ["child", "other", "grandchild", "grandchild", "child", "grandchild", "grandchild"]
    else:
        first_child_age = rng.randint(0, max(0, head_age - 21))
        first_child_gender = rng.choice("MF")
        pattern = ["child", "child", "parent", "parent", "child", "child", "child"]
    slots = itertools.chain(pattern, itertools.repeat("child" if head_age < 56 else "grandchild"))
    children = parents = 0
    for relation in itertools.islice(slots, remaining):
        if relation == "child":
            if children == 0:
                gender, age = first_child_gender, first_child_age
            elif head_age >= 56:
                gender, age = rng.choice("MF"), max(18, head_age - rng.randint(22, 38))
            else:
                gender, age = rng.choice("MF"), rng.randint(0, max(0, head_age - 21))
            children += 1
            people.append(("child", gender, age, family_surname))
        elif relation == "other":  # the eldest child's spouse
            people.append(("other", _other(first_child_gender), max(18, first_child_age + rng.randint(-4, 4)),
                           names.surname(rng)))
        elif relation == "grandchild":
            parent_age = first_child_age
            surname = family_surname if first_child_gender == "M" else names.surname(rng)
            people.append(("grandchild", rng.choice("MF"), rng.randint(0, max(0, min(parent_age - 20, 30))),
                           surname))
        else:
            gender = "M" if parents == 0 else "F"
            parents += 1
            surname = head_surname if gender == "M" else names.surname(rng)
            people.append(("parent", gender, min(98, head_age + rng.randint(22, 32)), surname))

    out = []
    for i, (relation, gender, age, surname) in enumerate(people):
        if i == 0 and head is not None:
            out.append(Person(head.name, head.gender, head.birth, "head", head.id_number, head.phone))
            continue
        birth = birth_for_age(rng, age)
        out.append(Person(surname + names.given(rng, gender, birth.year), gender, birth, relation))
    return out
