"""What a caller hears: short sentences that read naturally through text-to-speech.

The words of what is allowed instead come from the rules (``Decision.notice``), so a
call, a text reply and an email reply say the same thing. This module adds only what a
phone line needs around them: the emergency keypad option, the voicemail instructions,
the recording and time-limit announcement, and the few words for when a call ends.

A blocked caller always hears what is allowed instead when the restriction says to tell
the customer, not just once a day: a call has to be answered with something, and the
person is on the line asking. (The once-a-day rule is for replies we send: texts, email.)
A call outside every call window is told when the next window is even when the customer
is not otherwise told anything (SPEC §4.5): the rules word that notice too.
"""

from __future__ import annotations

from datetime import timedelta

from rules.identity import display_phone
from rules.wording import period_words

PRESS_ONE = (
    "If this is an emergency repair, or you or someone else is in danger, press 1 now "
    "to be put through."
)
PUT_THROUGH = "To be put through to the emergency line now, press 1."
NOT_NOW = "We are not able to take your call at present."
DANGER_NO_LINE = "If anyone is in immediate danger, hang up and call 999."
GOODBYE = "Goodbye."
_AFTER_TONE = "after the tone, and press the hash key when you have finished."
LEAVE_MESSAGE = f"Please leave your message {_AFTER_TONE}"
VOICEMAIL_INTRO = (
    "Under the arrangement we have written to you about, your message will be recorded "
    "and listened to, and we will reply only if it raises a new matter."
)
VOICEMAIL_THANKS = "Thank you. Your message has been recorded. Goodbye."
NO_VOICEMAIL = "We did not receive a message. Goodbye."
NOT_CONNECTED = "Sorry, nobody was able to take your call just now. Please try again later."
EMERGENCY_NOT_CONNECTED = (
    "Sorry, the emergency line could not be reached. If anyone is in immediate danger, "
    "hang up and call 999."
)
KEY_NOT_RECOGNISED = "Sorry, that key is not an option."
CANNOT_CONNECT = "Sorry, this line cannot connect your call."
WITHHELD = (
    "Sorry, this line does not take calls from withheld numbers. Please call again from a "
    "number that is not withheld."
)


def blocked(notice: str | None, *, press_one: bool) -> str:
    """The message for a call that will not be put through."""
    if notice is None:
        # The notice always says how to get help in an emergency; without it, say so here.
        return f"{NOT_NOW} {PRESS_ONE if press_one else DANGER_NO_LINE}"
    if press_one:
        # The notice has just given the emergency line's number.
        return f"{notice} {PUT_THROUGH}"
    return notice


def withheld(*, press_one: bool) -> str:
    """For a caller from a withheld number, where the organisation does not put them through."""
    return f"{WITHHELD} {PRESS_ONE if press_one else DANGER_NO_LINE}"


def cannot_connect(emergency_number: str | None) -> str:
    """For a call that could only be dialled back to the number called (a loop): the
    emergency line's number, or 999, instead."""
    if emergency_number:
        return (
            f"{CANNOT_CONNECT} For an emergency repair, or if you or someone else is in "
            f"danger, call {display_phone(emergency_number)}."
        )
    return f"{CANNOT_CONNECT} {DANGER_NO_LINE}"


def voicemail(*, press_one: bool) -> str:
    """Before the tone: what happens to the message, and the emergency option."""
    if press_one:
        return f"{VOICEMAIL_INTRO} {PRESS_ONE} Otherwise, please leave your message {_AFTER_TONE}"
    return f"{VOICEMAIL_INTRO} {DANGER_NO_LINE} {LEAVE_MESSAGE}"


def before_connecting(time_limit: int | None, record: bool) -> str | None:
    """Told before a restricted call is put through: it is recorded, and how long it may last."""
    parts = []
    if record:
        parts.append("This call will be recorded.")
    if time_limit:
        parts.append(f"It can last up to {period_words(timedelta(seconds=time_limit))}.")
    if not parts:
        return None
    if not record:
        parts[0] = parts[0].replace("It can", "This call can")
    return " ".join(parts)
