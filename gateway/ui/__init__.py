"""The web UI at ``/admin`` for case officers, managers and directors (SPEC §6).

Server-rendered pages (Jinja2, autoescaped) over the same routes the JSON API serves:
each action calls the API's handler in-process (``gateway.ui.apicall``), so the rules,
the role table and the audit trail are the API's own. One call, ``setup_ui``, wires it in.

May use: ``api`` and every part below it.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from gateway.common.clock import Clock
from gateway.config.settings import Settings
from gateway.ui import (
    call_pages,
    evidence_pages,
    exemption_pages,
    held_pages,
    incident_pages,
    letter_pages,
    login,
    match_pages,
    pages,
    restriction_pages,
    settings_pages,
)
from gateway.ui.core import PREFIX, UI, Ui, security_headers, templates

STATIC = Path(__file__).parent / "static"


def setup_ui(app: web.Application, settings: Settings, clock: Clock) -> None:
    """Register the UI's pages, static files and security headers on ``app``."""
    app[UI] = Ui(settings=settings, clock=clock, templates=templates())
    app.middlewares.append(security_headers)
    r = app.router
    r.add_get(PREFIX, pages.dashboard)
    r.add_get(PREFIX + "/", pages.dashboard)
    r.add_get(PREFIX + "/login", login.login_get)
    r.add_post(PREFIX + "/login", login.login_post)
    r.add_post(PREFIX + "/logout", login.logout)
    r.add_get(PREFIX + "/customers", pages.customers)
    r.add_post(PREFIX + "/customers", pages.customer_create)
    r.add_get(PREFIX + "/customers/{customer_id}", pages.customer)
    r.add_get(PREFIX + "/restrictions/new", restriction_pages.new_form)
    r.add_post(PREFIX + "/restrictions", restriction_pages.propose)
    r.add_get(PREFIX + "/restrictions/{restriction_id}", restriction_pages.view)
    r.add_post(PREFIX + "/restrictions/{restriction_id}/reviews", restriction_pages.review)
    r.add_post(PREFIX + "/restrictions/{restriction_id}/appeals", restriction_pages.appeal)
    r.add_post(
        PREFIX + "/restrictions/{restriction_id}/appeals/{appeal_id}/decision",
        restriction_pages.appeal_decision,
    )
    r.add_post(PREFIX + "/restrictions/{restriction_id}/letters", restriction_pages.send_letter)
    r.add_post(
        PREFIX + "/restrictions/{restriction_id}/letters/{letter_id}/posted",
        restriction_pages.letter_posted,
    )
    r.add_post(
        PREFIX + "/restrictions/{restriction_id}/notice-exception", restriction_pages.ask_exception
    )
    r.add_post(
        PREFIX + "/restrictions/{restriction_id}/notice-exception/sign-off",
        restriction_pages.sign_off_exception,
    )
    r.add_get(PREFIX + "/letters/{letter_id}.pdf", restriction_pages.letter_pdf)
    r.add_get(PREFIX + "/letters", letter_pages.waiting)
    r.add_post(PREFIX + "/letters/{letter_id}/posted", letter_pages.posted)
    r.add_get(PREFIX + "/customers/{customer_id}/warning", letter_pages.warning_form)
    r.add_post(PREFIX + "/customers/{customer_id}/warning", letter_pages.warning_send)
    r.add_post(PREFIX + "/restrictions/{restriction_id}/{step}", restriction_pages.step)
    r.add_get(PREFIX + "/incidents/new", incident_pages.new_form)
    r.add_post(PREFIX + "/incidents", incident_pages.record)
    r.add_get(PREFIX + "/held", held_pages.queue)
    r.add_get(PREFIX + "/held/{held_id}", held_pages.item)
    r.add_post(PREFIX + "/held/{held_id}/release", held_pages.release)
    r.add_post(PREFIX + "/held/{held_id}/review", held_pages.reviewed)
    r.add_get(PREFIX + "/matches", match_pages.matches)
    r.add_post(PREFIX + "/matches/{match_id}/{action}", match_pages.decide)
    r.add_get(PREFIX + "/explain", evidence_pages.explain_form)
    r.add_post(PREFIX + "/explain", evidence_pages.explain)
    r.add_get(PREFIX + "/evidence", evidence_pages.evidence)
    r.add_get(PREFIX + "/evidence/export", evidence_pages.export)
    r.add_get(PREFIX + "/audit", evidence_pages.audit)
    r.add_get(PREFIX + "/reports", evidence_pages.reports)
    r.add_get(PREFIX + "/exemptions", exemption_pages.view)
    r.add_post(PREFIX + "/exemptions", exemption_pages.check)
    r.add_post(PREFIX + "/exemptions/routes", exemption_pages.set_routes)
    r.add_post(PREFIX + "/exemptions/phrases", exemption_pages.set_phrases)
    r.add_get(PREFIX + "/calls", call_pages.view)
    r.add_post(PREFIX + "/calls", call_pages.change)
    r.add_get(PREFIX + "/settings", settings_pages.view)
    r.add_post(PREFIX + "/settings", settings_pages.change)
    r.add_static(PREFIX + "/static", STATIC)
