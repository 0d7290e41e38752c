"""TwiML answers, built with the twilio library's ``VoiceResponse``/``MessagingResponse``.

A webhook's answer depends on a handful of values (the number to dial, the time limit,
whether to record, the words to say), and most calls share them: every unknown caller to
one number gets the same ``<Dial>``. So each answer is rendered once per shape and kept
in a small LRU cache owned by the running channel (not by the module: no global state).
Building TwiML with the library costs more than the rest of a pass-through call.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import quote

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from channels.twilio import speech
from channels.twilio.ports import TwilioConfig
from rules.whisper import NOT_TAKEN

RECORD_MODE = "record-from-answer-dual"
CACHE_SIZE = 1024
MENU_TIMEOUT_S = 6
VOICEMAIL_MENU_TIMEOUT_S = 1
VOICEMAIL_SILENCE_S = 5
# How long the officer has to press 1 after the whisper.
WHISPER_TIMEOUT_S = 8


class Answers:
    """Renders (and remembers) the TwiML documents the Twilio webhooks answer with."""

    def __init__(self, config: TwilioConfig) -> None:
        self._config = config
        self.menu_url = config.url("/twilio/voice/menu")
        self.voicemail_menu_url = config.url("/twilio/voice/menu?after=voicemail")
        self.dialled_url = config.url("/twilio/voice/dialled")
        self.emergency_dialled_url = config.url("/twilio/voice/dialled?leg=emergency")
        self.voicemail_url = config.url("/twilio/voice/voicemail")
        self.whisper_answer_url = config.url("/twilio/voice/whisper/answer")
        self._whisper_url = config.url("/twilio/voice/whisper")
        self.connect = lru_cache(maxsize=CACHE_SIZE)(self._connect)
        self.blocked = lru_cache(maxsize=CACHE_SIZE)(self._blocked)
        self.voicemail = lru_cache(maxsize=CACHE_SIZE)(self._voicemail)
        self.say_goodbye = lru_cache(maxsize=64)(self._say_goodbye)
        self.empty_messaging = str(MessagingResponse())

    def _say(self, verb: Any, text: str) -> None:
        verb.say(text, voice=self._config.voice, language=self._config.language)

    def whisper_url(self, customer_id: str) -> str:
        """Where Twilio fetches the whisper for the officer's leg of ``customer_id``'s call."""
        return f"{self._whisper_url}?customer={quote(customer_id, safe='')}"

    def _connect(
        self,
        number: str,
        time_limit: int | None,
        record: bool,
        action: str | None,
        whisper: str | None = None,
    ) -> str:
        """``<Dial>`` the number; a restricted call also gets its limit, recording, action,
        and (``whisper``) a ``<Number url>`` whose TwiML the officer hears on answering."""
        response = VoiceResponse()
        announcement = speech.before_connecting(time_limit, record) if action else None
        if announcement:
            self._say(response, announcement)
        attributes: dict[str, object] = {}
        if time_limit:
            attributes["time_limit"] = time_limit
        if record:
            attributes["record"] = RECORD_MODE
        if action:
            attributes["action"] = action
            attributes["method"] = "POST"
        if whisper:
            response.dial(**attributes).number(number, url=whisper, method="POST")
        else:
            response.dial(number, **attributes)
        return str(response)

    def whisper(self, words: str) -> str:
        """The officer's leg: the whisper inside a one-key ``<Gather>``. Without a key,
        ``<Redirect>`` to the same answer endpoint (with no ``Digits``), so the refusal
        is recorded before the leg hangs up and the call is not put through."""
        response = VoiceResponse()
        gather = response.gather(
            num_digits=1,
            input="dtmf",
            timeout=WHISPER_TIMEOUT_S,
            action=self.whisper_answer_url,
            method="POST",
        )
        self._say(gather, words)
        response.redirect(self.whisper_answer_url, method="POST")
        return str(response)

    def whisper_answered(self, accepted: bool) -> str:
        """After the officer's key: nothing more (the call connects), or hang up."""
        response = VoiceResponse()
        if not accepted:
            self._say(response, NOT_TAKEN)
            response.hangup()
        return str(response)

    def _blocked(self, words: str, press_one: bool) -> str:
        """Say what is allowed instead (inside a keypad menu when there is one), hang up."""
        response = VoiceResponse()
        if press_one:
            gather = response.gather(
                num_digits=1,
                input="dtmf",
                timeout=MENU_TIMEOUT_S,
                action=self.menu_url,
                method="POST",
            )
            self._say(gather, words)
            self._say(response, speech.GOODBYE)
        else:
            self._say(response, words)
        response.hangup()
        return str(response)

    def _voicemail(self, words: str, press_one: bool) -> str:
        """Explain, offer the emergency key, then ``<Record>`` with an explicit action."""
        response = VoiceResponse()
        if press_one:
            gather = response.gather(
                num_digits=1,
                input="dtmf",
                timeout=VOICEMAIL_MENU_TIMEOUT_S,
                action=self.voicemail_menu_url,
                method="POST",
            )
            self._say(gather, words)
        else:
            self._say(response, words)
        self.add_record(response)
        return str(response)

    def record_only(self) -> str:
        """The voicemail without its introduction (after a key that was not 1)."""
        response = VoiceResponse()
        self._say(response, speech.LEAVE_MESSAGE)
        self.add_record(response)
        return str(response)

    def add_record(self, response: VoiceResponse) -> None:
        response.record(
            action=self.voicemail_url,
            method="POST",
            max_length=self._config.voicemail_max_seconds,
            timeout=VOICEMAIL_SILENCE_S,
            finish_on_key="#",
            play_beep=True,
        )
        self._say(response, speech.NO_VOICEMAIL)
        response.hangup()

    def menu_again(self, after_voicemail: bool) -> str:
        """A key other than 1: offer the emergency option once more."""
        response = VoiceResponse()
        gather = response.gather(
            num_digits=1,
            input="dtmf",
            timeout=MENU_TIMEOUT_S,
            action=self.voicemail_menu_url if after_voicemail else self.menu_url,
            method="POST",
        )
        self._say(gather, f"{speech.KEY_NOT_RECOGNISED} {speech.PRESS_ONE}")
        if after_voicemail:
            self._say(response, speech.LEAVE_MESSAGE)
            self.add_record(response)
            return str(response)
        self._say(response, speech.GOODBYE)
        response.hangup()
        return str(response)

    def _say_goodbye(self, words: str | None) -> str:
        """Say ``words`` (if any) and hang up."""
        response = VoiceResponse()
        if words:
            self._say(response, words)
        response.hangup()
        return str(response)

    def sms_reply(self, text: str | None) -> str:
        """``<Response>`` with a ``<Message>`` when the customer is told something."""
        if not text:
            return self.empty_messaging
        response = MessagingResponse()
        response.message(text)
        return str(response)
