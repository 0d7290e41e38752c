"""The field types every policy model shares: ids, addresses and numbers, and the base
model (frozen, no unknown fields, text trimmed).

Kept apart from ``rules.models`` so that the parts of a restriction defined in their own
modules (``rules.scope``) use the same types without importing the restriction back.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo

from rules.identity import IdentityError, normalise_email, normalise_phone

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


def region_of(info: ValidationInfo) -> str:
    context = info.context if isinstance(info.context, dict) else {}
    region = context.get("region", "GB")
    return str(region)


def _check_id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(
            f"'{value}' is not a usable id: use 1 to 64 letters, digits, '.', '_', ':' or '-'"
        )
    return value


Identifier = Annotated[str, AfterValidator(_check_id)]
NonEmptyText = Annotated[str, Field(min_length=1, max_length=2000)]


def email_field(value: str) -> str:
    try:
        return normalise_email(value)
    except IdentityError as exc:
        raise ValueError(str(exc)) from None


def _emails(values: list[str]) -> list[str]:
    normalised = [email_field(v) for v in values]
    return list(dict.fromkeys(normalised))


def phones_field(values: list[str], info: ValidationInfo) -> list[str]:
    out: list[str] = []
    for raw in values:
        try:
            out.append(normalise_phone(raw, region_of(info)))
        except IdentityError as exc:
            raise ValueError(str(exc)) from None
    return list(dict.fromkeys(out))


# Every address list is normalised and de-duplicated; phone lists need the region.
EmailList = Annotated[list[str], AfterValidator(_emails)]
PhoneList = Annotated[list[str], AfterValidator(phones_field)]


# One set of field names for every model given the same fields (see Model).
_FIELDS_SETS: dict[frozenset[str], set[str]] = {}
# A policy's models are given a few dozen different sets of fields; far more means the
# names vary without end, and past this many a new set is kept by its own model alone.
_MAX_FIELDS_SETS = 4096


class Model(BaseModel):
    """Frozen, refusing unknown fields (a misspelt field is an error, not ignored).

    Every pydantic model keeps the names of the fields it was given, in a set of its
    own: a stored restriction gives all 20 of its fields, and a set that size costs
    about 2.2 kB, more than the rest of the restriction, in every one of a policy's
    10,000 (bench/memory.py). Models given the same fields share one set instead. That
    is safe because the models are frozen: pydantic adds to the set only on assignment,
    which a frozen model refuses, and ``model_copy`` gives the copy a set of its own.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    def model_post_init(self, context: Any, /) -> None:
        given = self.__pydantic_fields_set__
        shared = _FIELDS_SETS.get(frozenset(given))
        if shared is None:
            if len(_FIELDS_SETS) >= _MAX_FIELDS_SETS:
                return
            shared = _FIELDS_SETS.setdefault(frozenset(given), set(given))
        object.__setattr__(self, "__pydantic_fields_set__", shared)
