"""Who may do what in the administration API: roles, permissions and the table between.

Written as data so that the whole policy can be read in one place, tested as a table,
and printed in docs/administrator.md. Each role gets only what its work needs (SPEC §6, and the
councils' own separation of duties): viewers read; officers propose restrictions,
keep customer records and manage held contact; authorisers, senior managers, also
authorise, suspend, revoke and decide appeals; admins manage users and settings but do
not take part in restriction decisions, nor read what only caseworkers need to read.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Role(StrEnum):
    """A user's role; one per user."""

    VIEWER = "viewer"
    OFFICER = "officer"
    AUTHORISER = "authoriser"
    ADMIN = "admin"


class Permission(StrEnum):
    """One kind of action in the API; every route needs exactly one."""

    READ = "read"  # policy, restrictions, held-contact lists, evidence, explain
    EDIT_RECORDS = "edit_records"  # officers, customers, identities, representatives
    PROPOSE = "propose"  # draft restrictions, edit drafts, lodge appeals
    MANAGE_HELD = "manage_held"  # read held content, release, mark reviewed
    RECORD_CONTACT = "record_contact"  # letters, visits, staff-mobile calls, social media
    MANAGE_FLAGS = "manage_flags"  # warning flags and reasonable adjustments
    READ_FLAG_REASONS = "read_flag_reasons"  # by role; assignment also grants it
    DECIDE = "decide"  # authorise, reject, suspend, resume, revoke, review, appeals
    ASSIGN = "assign"  # assign users to customers (need-to-know)
    READ_AUDIT = "read_audit"
    MANAGE_USERS = "manage_users"
    MANAGE_SETTINGS = "manage_settings"


_OFFICER = frozenset(
    {
        Permission.READ,
        Permission.EDIT_RECORDS,
        Permission.PROPOSE,
        Permission.MANAGE_HELD,
        Permission.RECORD_CONTACT,
        Permission.MANAGE_FLAGS,
    }
)

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.OFFICER: _OFFICER,
    Role.AUTHORISER: _OFFICER
    | {Permission.DECIDE, Permission.READ_FLAG_REASONS, Permission.ASSIGN, Permission.READ_AUDIT},
    Role.ADMIN: frozenset(
        {
            Permission.READ,
            Permission.READ_AUDIT,
            Permission.MANAGE_USERS,
            Permission.MANAGE_SETTINGS,
        }
    ),
}


def allowed(role: Role, permission: Permission) -> bool:
    """May a user with ``role`` do an action needing ``permission``?"""
    return permission in ROLE_PERMISSIONS[role]


def roles_with(permission: Permission) -> tuple[Role, ...]:
    """The roles holding ``permission``, in the order of ``Role`` (for messages)."""
    return tuple(role for role in Role if permission in ROLE_PERMISSIONS[role])
