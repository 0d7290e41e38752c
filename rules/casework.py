"""Casework facts about a customer: warning flags and reasonable adjustments.

Warning flags use the categories of the councils' policies and two levels (amber: take
care; red: do not visit alone). A flag's reason often records what the customer did or
said, so it is read only by those with a need: a role that decides, or a person assigned
to the customer.

A reasonable adjustment is a need the organisation has agreed to meet (Equality Act
2010), such as contact by phone for a customer who cannot read. A restriction that takes
away what a recorded need depends on may still be right, but only with a written
justification, which is why the conflicts are worked out here, before authorisation.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from rules.models import Channel, Handling, Restriction
from rules.roles import Permission, Role, allowed


class FlagLevel(StrEnum):
    AMBER = "amber"
    RED = "red"


class FlagCategory(StrEnum):
    """The categories the councils' unacceptable-behaviour policies use."""

    VERBAL_OR_HATE_ABUSE = "verbal_or_hate_abuse"
    IRRATIONAL_OR_UNCONTROLLED_BEHAVIOUR = "irrational_or_uncontrolled_behaviour"
    THREAT_OF_PHYSICAL_ABUSE = "threat_of_physical_abuse"
    THREAT_OF_ANIMAL_ATTACK = "threat_of_animal_attack"
    PHYSICAL_VIOLENCE = "physical_violence"
    PROPERTY_DAMAGE = "property_damage"
    ANIMAL_ATTACK = "animal_attack"
    PERSISTENT_COMPLAINER = "persistent_complainer"


def may_read_flag_reason(role: Role, *, assigned: bool) -> bool:
    """A flag's reason is for those with a need: by role, or by assignment to the customer.

    Assignment gives the need only to someone who works on cases at all (not a viewer or
    an IT administrator who happens to be listed).
    """
    if allowed(role, Permission.READ_FLAG_REASONS):
        return True
    return assigned and allowed(role, Permission.MANAGE_FLAGS)


class Need(StrEnum):
    """A recorded reasonable adjustment: how the customer needs to be contacted or served."""

    PHONE_CONTACT = "phone_contact"
    EMAIL_CONTACT = "email_contact"
    SMS_CONTACT = "sms_contact"
    LETTER_CONTACT = "letter_contact"
    FACE_TO_FACE = "face_to_face"
    REPRESENTATIVE = "representative"
    LARGE_PRINT = "large_print"
    EASY_READ = "easy_read"
    INTERPRETER = "interpreter"
    OTHER = "other"


_NEEDS_CHANNEL = {
    Need.PHONE_CONTACT: Channel.VOICE,
    Need.EMAIL_CONTACT: Channel.EMAIL,
    Need.SMS_CONTACT: Channel.SMS,
    Need.LETTER_CONTACT: Channel.LETTER,
    Need.FACE_TO_FACE: Channel.VISIT,
}


def adjustment_conflicts(restriction: Restriction, needs: Iterable[Need]) -> list[str]:
    """Each way ``restriction`` takes away what a recorded need depends on, in words."""
    conflicts: list[str] = []
    for need in dict.fromkeys(needs):
        channel = _NEEDS_CHANNEL.get(need)
        if channel is not None and channel not in restriction.channels:
            conflicts.append(
                f"the customer's recorded need '{need.value}' depends on contact by "
                f"{channel.value.replace('_', ' ')}, which the restriction does not allow"
            )
        elif need is Need.REPRESENTATIVE and restriction.handling is Handling.NO_CONTACT:
            conflicts.append(
                "the customer's recorded need 'representative' depends on contact through "
                "a representative, which a no-contact restriction does not allow"
            )
    return conflicts
