"""Times, dates, limits and channels in the plain words of a letter, in English and Welsh.

The English forms are ``gateway.common.plain_words``'s (the one source the evidence pack,
the report and the digest use too); the Welsh ones are here.

A letter says "Sunday 6 December 2026, 4:05 am" (or "Dydd Sul 6 Rhagfyr 2026, 4:05 y.b."),
never an ISO instant, and "2 emails a day" (or "e-bost: dim mwy na 2 y dydd"), never
"P1D". Names of days and months are spelled here rather than taken from ``strftime``,
which follows the process locale. Instants are shown in the organisation's time zone.

The Welsh limit is written "channel: no more than N a day" because a Welsh noun after a
number stays singular and may mutate ("2 alwad ffôn"); that form avoids both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from gateway.common.plain_words import (
    contact_noun,
    plain_clock,
    plain_date,
    plain_limit,
    plain_time,
)
from rules.models import CallWindow, Channel, Handling, Limit, parse_period
from rules.wording import window_words

Lang = Literal["en", "cy"]

_MONTHS_CY = (
    "Ionawr",
    "Chwefror",
    "Mawrth",
    "Ebrill",
    "Mai",
    "Mehefin",
    "Gorffennaf",
    "Awst",
    "Medi",
    "Hydref",
    "Tachwedd",
    "Rhagfyr",
)
_DAYS_CY = ("Llun", "Mawrth", "Mercher", "Iau", "Gwener", "Sadwrn", "Sul")


def date_words(day: date, lang: Lang) -> str:
    """ "Sunday 6 December 2026" / "Dydd Sul 6 Rhagfyr 2026"."""
    if lang == "en":
        return plain_date(day)
    return f"Dydd {_DAYS_CY[day.weekday()]} {day.day} {_MONTHS_CY[day.month - 1]} {day.year}"


def clock_words_cy(offset: timedelta) -> str:
    """A time of day in Welsh: "4:05 y.b.", "3 y.p.", "hanner dydd", "hanner nos"."""
    minutes = int((offset % timedelta(days=1)).total_seconds()) // 60
    hour, minute = divmod(minutes, 60)
    if minute == 0 and hour in (0, 12):
        return "hanner nos" if hour == 0 else "hanner dydd"
    suffix = "y.b." if hour < 12 else "y.p."
    hour12 = hour % 12 or 12
    return f"{hour12} {suffix}" if minute == 0 else f"{hour12}:{minute:02d} {suffix}"


def time_words(at: datetime, zone: ZoneInfo, lang: Lang) -> str:
    """ "4:05 am" / "4:05 y.b." in the organisation's local time."""
    if lang == "en":
        return plain_clock(at, zone)
    local = at.astimezone(zone)
    return clock_words_cy(timedelta(hours=local.hour, minutes=local.minute))


def when_words(at: datetime, zone: ZoneInfo, lang: Lang) -> str:
    """ "Sunday 6 December 2026, 4:05 am": the local date and time of an instant."""
    if lang == "en":
        return plain_time(at, zone)
    return f"{date_words(at.astimezone(zone).date(), lang)}, {time_words(at, zone, lang)}"


_CHANNEL_CY = {
    Channel.EMAIL: ("e-bost", "e-byst"),
    Channel.SMS: ("neges destun", "negeseuon testun"),
    Channel.VOICE: ("galwad ffôn", "galwadau ffôn"),
    Channel.LETTER: ("llythyr", "llythyrau"),
    Channel.VISIT: ("ymweliad", "ymweliadau"),
    Channel.STAFF_MOBILE: ("galwad i ffôn symudol staff", "galwadau i ffonau symudol staff"),
    Channel.SOCIAL_MEDIA: ("neges cyfryngau cymdeithasol", "negeseuon cyfryngau cymdeithasol"),
    "any": ("cyswllt", "cysylltiadau"),
}


_BY = {
    "en": {
        Channel.EMAIL: "email",
        Channel.SMS: "text message",
        Channel.VOICE: "phone",
        Channel.LETTER: "letter",
        Channel.STAFF_MOBILE: "a member of staff's mobile phone",
        Channel.SOCIAL_MEDIA: "social media",
    },
    "cy": {
        Channel.EMAIL: "e-bost",
        Channel.SMS: "neges destun",
        Channel.VOICE: "ffôn",
        Channel.LETTER: "llythyr",
        Channel.STAFF_MOBILE: "ffôn symudol aelod o staff",
        Channel.SOCIAL_MEDIA: "cyfryngau cymdeithasol",
    },
}
_VISIT = {
    "en": ("in person by appointment", "in person"),
    "cy": ("yn bersonol drwy apwyntiad", "yn bersonol"),
}


def ways_words(channels: Sequence[Channel], lang: Lang, *, by_appointment: bool) -> list[str]:
    """The ways a restriction leaves open, as the end of "You may contact us by ..."."""
    out = [_BY[lang][c] for c in channels if c is not Channel.VISIT]
    if Channel.VISIT in channels:
        out.append(_VISIT[lang][0 if by_appointment else 1])
    return out


def channel_words(channel: Channel | str, lang: Lang, *, plural: bool = True) -> str:
    """ "emails" / "e-byst": a channel as a customer names it."""
    key = channel if channel == "any" else Channel(channel)
    if lang == "en":
        return contact_noun(str(key), 2 if plural else 1)
    singular, many = _CHANNEL_CY[key]
    return many if plural else singular


_PER_CY = {
    timedelta(hours=1): "yr awr",
    timedelta(days=1): "y dydd",
    timedelta(days=7): "yr wythnos",
}


def limit_words(limit: Limit, lang: Lang) -> str:
    """ "2 emails a day", "5 phone calls every 3 days"; "e-bost: dim mwy na 2 y dydd"."""
    if lang == "en":
        return plain_limit(limit.max, str(limit.channel), limit.per, other="every")
    period = parse_period(limit.per)
    per = _PER_CY.get(period)
    noun = channel_words(limit.channel, "cy", plural=False)
    noun = noun[:1].upper() + noun[1:]
    return f"{noun}: dim mwy na {limit.max} {per or 'bob ' + _period_cy(period)}"


def _period_cy(period: timedelta) -> str:
    hours, rest = divmod(period.seconds, 3600)
    parts = []
    if period.days:
        parts.append(f"{period.days} diwrnod")
    if hours:
        parts.append(f"{hours} awr")
    if rest // 60:
        parts.append(f"{rest // 60} munud")
    return " a ".join(parts) or f"{period.seconds} eiliad"


def join_cy(parts: Sequence[str]) -> str:
    """ "a, b a c" (``ac`` before a vowel)."""
    if len(parts) <= 1:
        return "".join(parts)
    last = parts[-1]
    conj = "ac" if last[:1].lower() in "aeiouwy" else "a"
    return f"{', '.join(parts[:-1])} {conj} {last}"


def _days_cy(days: Sequence[str]) -> str:
    from rules.models import Weekday

    numbers = sorted({Weekday(d).number for d in days})
    if len(numbers) == 7:
        return "bob dydd"
    names = [f"dydd {_DAYS_CY[n]}" for n in numbers]
    if len(numbers) >= 3 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"o d{names[0]} i d{names[-1]}"  # soft mutation after "o" and "i"
    return "ar d" + join_cy(names)  # after "ar" the first mutates; after "a" none does


def window_words_lang(window: CallWindow, lang: Lang) -> str:
    """A recurring call window: "Mondays to Fridays between 10 am and 12 noon"."""
    if lang == "en":
        return window_words(window)
    start = clock_words_cy(window.start_offset)
    end = clock_words_cy(window.end_offset)
    if window.end_offset > timedelta(days=1):
        span = f"o {start} tan {end} y diwrnod wedyn"
    else:
        span = f"rhwng {start} a {end}"
    return f"{_days_cy(window.days)}, {span}"


HANDLING = {
    "en": {
        Handling.DELIVER: "Contact you send in the ways allowed below will be passed to the "
        "right person as usual.",
        Handling.READ_AND_FILE: "Contact you send will be read and kept on your file. We will "
        "reply only if it raises a new matter.",
        Handling.REPRESENTATIVE_ONLY: "We will accept contact only through your representative.",
        Handling.NO_CONTACT: "We will not accept contact from you, except through the routes "
        "that stay open to you (listed below).",
    },
    "cy": {
        Handling.DELIVER: "Bydd cyswllt a anfonwch yn y ffyrdd a ganiateir isod yn cael ei "
        "drosglwyddo i'r person cywir fel arfer.",
        Handling.READ_AND_FILE: "Bydd cyswllt a anfonwch yn cael ei ddarllen a'i gadw ar eich "
        "ffeil. Byddwn yn ateb dim ond os yw'n codi mater newydd.",
        Handling.REPRESENTATIVE_ONLY: "Byddwn yn derbyn cyswllt drwy eich cynrychiolydd yn unig.",
        Handling.NO_CONTACT: "Ni fyddwn yn derbyn cyswllt gennych, ac eithrio drwy'r ffyrdd "
        "sy'n dal ar agor i chi (a restrir isod).",
    },
}

ROUTE_PURPOSE = {
    "en": {
        "emergency_repairs": "For an emergency repair",
        "safeguarding": "If you or someone else is at risk",
        "data_protection": "To ask for the information we hold about you",
        "appeals": "To appeal against this decision",
        "complaints": "To make a complaint",
    },
    "cy": {
        "emergency_repairs": "Ar gyfer atgyweiriad brys",
        "safeguarding": "Os ydych chi neu rywun arall mewn perygl",
        "data_protection": "I ofyn am yr wybodaeth sydd gennym amdanoch",
        "appeals": "I apelio yn erbyn y penderfyniad hwn",
        "complaints": "I wneud cwyn",
    },
}

OUTCOME = {
    "en": {"quash": "quashed", "vary": "varied", "uphold": "upheld"},
    "cy": {
        "quash": "dileu'r penderfyniad",
        "vary": "newid y penderfyniad",
        "uphold": "cadarnhau'r penderfyniad",
    },
}

PERIOD_UNIT = {
    "en": {"days": ("day", "days"), "working_days": ("working day", "working days")},
    "cy": {"days": ("diwrnod", "diwrnod"), "working_days": ("diwrnod gwaith", "diwrnod gwaith")},
}


def period_amount_words(amount: int, unit: str, lang: Lang) -> str:
    """ "20 working days" / "20 diwrnod gwaith"."""
    singular, many = PERIOD_UNIT[lang][unit]
    return f"{amount} {singular if amount == 1 else many}"


# An incident's category and how it happened, as a warning letter names them.
INCIDENT_CATEGORY = {
    "en": {
        "verbal_or_hate_abuse": "verbal or hate abuse",
        "irrational_or_uncontrolled_behaviour": "irrational or uncontrolled behaviour",
        "threat_of_physical_abuse": "a threat of physical abuse",
        "threat_of_animal_attack": "a threat of an attack by an animal",
        "physical_violence": "physical violence",
        "property_damage": "damage to property",
        "animal_attack": "an attack by an animal",
        "persistent_complainer": "persistent complaints",
    },
    "cy": {
        "verbal_or_hate_abuse": "cam-drin geiriol neu gasineb",
        "irrational_or_uncontrolled_behaviour": "ymddygiad afresymol neu afreolus",
        "threat_of_physical_abuse": "bygythiad o gam-drin corfforol",
        "threat_of_animal_attack": "bygythiad o ymosodiad gan anifail",
        "physical_violence": "trais corfforol",
        "property_damage": "difrod i eiddo",
        "animal_attack": "ymosodiad gan anifail",
        "persistent_complainer": "cwynion parhaus",
    },
}
_INCIDENT_WAY = {
    "en": {"visit": "in person", "in_person": "in person", "voice": "by phone"},
    "cy": {"visit": "yn bersonol", "in_person": "yn bersonol", "voice": "dros y ffôn"},
}
_BY_WORD = {"en": "by", "cy": "drwy"}


def incident_way_words(channel: str, lang: Lang) -> str:
    """How an incident happened: "by email", "by phone", "in person"."""
    if channel in _INCIDENT_WAY[lang]:
        return _INCIDENT_WAY[lang][channel]
    try:
        way = _BY[lang][Channel(channel)]
    except (ValueError, KeyError):
        way = channel.replace("_", " ")
    return f"{_BY_WORD[lang]} {way}"


def incident_category_words(category: str, lang: Lang) -> str:
    return INCIDENT_CATEGORY[lang].get(category, category.replace("_", " "))
