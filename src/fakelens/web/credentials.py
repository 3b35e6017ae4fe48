"""What an account may be made of: e-mail syntax (``email-validator``, no DNS lookups) and
password strength (``zxcvbn``: dictionaries of common and leaked passwords, names,
keyboard patterns, repeats, and the account's own e-mail address and username)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from zxcvbn import zxcvbn

MIN_PASSWORD = 10
MAX_PASSWORD = 1024
MIN_SCORE = 3  # zxcvbn 0..4; 3: "safely unguessable: moderate protection from offline attacks"
_ZXCVBN_MAX = 72  # zxcvbn refuses longer input; the first 72 characters decide anyway


# usernames that would pass for the service or its staff; refused at sign-up whatever their
# case, with digits and underscores around them ("Admin", "admin_2", "root1"), as is any
# name containing "fakelens". Accounts that already have one keep it.
RESERVED_USERNAMES = frozenset({
    "admin", "administrator", "admins", "moderator", "moderators", "mod", "mods", "root",
    "support", "staff", "team", "official", "system", "sysadmin", "security", "abuse",
    "help", "helpdesk", "info", "contact", "postmaster", "hostmaster", "webmaster",
    "noreply", "owner", "operator", "service", "everyone", "anonymous", "null", "undefined",
})


def username_reserved(username: str) -> bool:
    name = username.lower()
    return "fakelens" in name or name.strip("_0123456789").replace("_", "") in RESERVED_USERNAMES


def normalize_email(email: str) -> str | None:
    """The address in canonical form (lower case), or None if its syntax is invalid."""
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError:
        return None
    return result.normalized.lower()


def login_email(email: str) -> str:
    """The form of a typed address to look an account up by (never refused)."""
    return normalize_email(email) or email.strip().lower()


def password_problems(password: str, *related: str) -> list[str]:
    """Why ``password`` is too weak (empty: good enough). ``related``: the account's
    e-mail address and username, which must not make up the password."""
    if len(password) < MIN_PASSWORD:
        return [f"Choose a password of at least {MIN_PASSWORD} characters."]
    if not password.strip():
        return ["A password of spaces only is easy to guess."]
    inputs = [r for r in related if r] + [r.split("@")[0] for r in related if "@" in r]
    result = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=[*inputs, "fakelens"])
    if result["score"] >= MIN_SCORE:
        return []
    feedback = result["feedback"]
    why = feedback.get("warning") or "This password is easy to guess."
    return [f"Choose a stronger password: {why}", *feedback.get("suggestions", [])[:2]]
