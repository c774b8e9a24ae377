"""LTI 1.3 (IMS Security Framework, LTI Core, Assignment and Grade Services 2.0).

A launch, in the order it is checked:

1. OIDC log-in initiation: the platform names itself (``iss``, ``client_id``) and the page
   wanted; lms keeps a random state and nonce on the server (``LtiLaunchState``) and sends
   the browser to the platform's authorisation endpoint.
2. The launch: the state must be one lms issued and not yet spent, the id_token must be
   signed (RS256 only) by a key in the platform's key set, and its claims must be this
   platform (``iss``), lms's client id (``aud``, ``azp``), fresh (``exp``, ``iat``), the
   nonce of that state, a deployment the admin registered, a resource-link launch of LTI
   1.3.0, for the page asked for, with a ``sub`` and a course (``context``).
3. The state is spent by a conditional delete and the nonce recorded under a unique rule, so
   a replay is refused even from several workers at once.
4. The person is found by the platform's ``sub`` only (never by email), or made without a
   password; Learner -> trainee enrolled in the course's cohort, Instructor -> trainer and
   the cohort's staff. No platform role ever makes an lms admin.

Grades (AGS) go back after the response, with a token from the platform's token endpoint
got with a client assertion signed by lms's own key (``LtiToolKey``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from joserfc import errors as jose_errors
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.models import (
    Attempt,
    Cohort,
    CohortStaff,
    Curriculum,
    LtiContext,
    LtiLaunchState,
    LtiLineItem,
    LtiNonce,
    LtiPlatform,
    LtiToolKey,
    LtiUser,
    Module,
    Person,
    PersonRole,
    Quiz,
)
from lms.models._types import utcnow
from lms.models.people import TRAINEE, TRAINER
from lms.services import cohorts as cohorts_service
from lms.services import sign_offs
from lms.services.errors import ServiceError, _l

log = logging.getLogger(__name__)

LTI_VERSION = "1.3.0"
RESOURCE_LINK = "LtiResourceLinkRequest"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
LEARNER = "Learner"
INSTRUCTOR = "Instructor"
# How long a log-in may take between initiation and launch, and the clock skew allowed.
STATE_LIFETIME = timedelta(minutes=10)
LEEWAY_SECONDS = 60
# An id_token issued longer ago than this is stale even if the platform set a late exp.
MAX_TOKEN_AGE_SECONDS = 3600
READINESS_KEY = "readiness"


class LtiError(ServiceError):
    """A launch or registration lms refuses; the message says why (shown with a 4xx)."""


class RoleRefused(LtiError):
    """The launch is valid but its roles give no place in lms."""


class ReplayedLaunch(LtiError):
    """The state or nonce of this launch was used already."""


# ---------------------------------------------------------------------------------------------
# HTTP: one function, so tests can play the platform by replacing it.

@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


MAX_RESPONSE_BYTES = 1024 * 1024


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx comes back to the caller as it is (a failure): following it would carry the
    platform's bearer token to wherever the answer points, plain HTTP and inside addresses
    included, past the https check made on the first address."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def http_request(method: str, url: str, *, body: bytes | None = None,
                 headers: dict[str, str] | None = None, timeout: float = 5.0) -> HttpResponse:
    """One HTTP request with a timeout and a size limit, never following a redirect; a
    3xx/4xx/5xx is returned, not raised."""
    if not is_secure_url(url):  # never file:, never plain HTTP to another machine
        raise LtiError(_l("lms only talks to platforms over https."))
    request = urllib.request.Request(url, data=body, method=method,  # noqa: S310
                                     headers=headers or {})
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            return HttpResponse(answer.status, answer.read(MAX_RESPONSE_BYTES),
                                dict(answer.headers.items()))
    except urllib.error.HTTPError as error:
        return HttpResponse(error.code, error.read(MAX_RESPONSE_BYTES),
                            dict(error.headers.items()))


# ---------------------------------------------------------------------------------------------
# Platforms

def is_secure_url(url: str) -> bool:
    """HTTPS, or plain HTTP to this machine only (a platform under development)."""
    parts = urlsplit(url or "")
    if not parts.netloc or parts.username or parts.password:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1")


def on_platform_host(platform: LtiPlatform, url: str) -> bool:
    """Whether ``url`` (a gradebook address a launch or the platform names) is on one of the
    hosts the admin registered for the platform: a platform, or whoever holds its key, cannot
    point lms's requests, and its token, at another machine."""
    host = urlsplit(url or "").hostname
    return is_secure_url(url) and host is not None and host in {
        urlsplit(u).hostname for u in (platform.issuer, platform.auth_token_url,
                                       platform.auth_login_url, platform.key_set_url)}


@dataclass
class PlatformFields:
    name: str
    issuer: str
    client_id: str
    deployment_ids: list[str]
    auth_login_url: str
    auth_token_url: str
    key_set_url: str


def parse_deployment_ids(text: str) -> list[str]:
    """One deployment id a line (or comma-separated), blanks and repeats dropped."""
    seen: list[str] = []
    for part in (text or "").replace(",", "\n").splitlines():
        value = part.strip()
        if value and value not in seen:
            seen.append(value)
    return seen


def _platform_problems(session: Session, data: PlatformFields,
                       platform: LtiPlatform | None) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not data.name.strip():
        problems["name"] = _l("Enter a name.")
    if not data.issuer.strip():
        problems["issuer"] = _l("Enter the platform's issuer.")
    if not data.client_id.strip():
        problems["client_id"] = _l("Enter the client id the platform gave lms.")
    if not data.deployment_ids:
        problems["deployment_ids"] = _l("Enter at least one deployment id.")
    elif any(len(d) > 255 for d in data.deployment_ids):
        problems["deployment_ids"] = _l("A deployment id is at most 255 characters.")
    for name in ("auth_login_url", "auth_token_url", "key_set_url"):
        if not is_secure_url(getattr(data, name)):
            problems[name] = _l("Enter an https:// address.")
    if "issuer" not in problems and "client_id" not in problems:
        clash = session.scalar(select(LtiPlatform.id).where(
            LtiPlatform.issuer == data.issuer.strip(),
            LtiPlatform.client_id == data.client_id.strip()))
        if clash is not None and (platform is None or clash != platform.id):
            problems["client_id"] = _l("A platform with this issuer and client id is registered.")
    return problems


def save_platform(session: Session, data: PlatformFields,
                  platform: LtiPlatform | None = None) -> LtiPlatform:
    """Register a platform, or change one; raises ``LtiError`` with every problem."""
    problems = _platform_problems(session, data, platform)
    if problems:
        raise LtiError(problems=problems)
    platform = platform or LtiPlatform()
    platform.name = data.name.strip()
    platform.issuer = data.issuer.strip()
    platform.client_id = data.client_id.strip()
    platform.deployment_ids = list(data.deployment_ids)
    platform.auth_login_url = data.auth_login_url.strip()
    platform.auth_token_url = data.auth_token_url.strip()
    platform.key_set_url = data.key_set_url.strip()
    try:
        with session.begin_nested():
            session.add(platform)
    except IntegrityError:  # registered by another request a moment ago
        raise LtiError(_l("A platform with this issuer and client id is registered."),
                       "client_id") from None
    forget_key_set(platform.key_set_url)
    return platform


def list_platforms(session: Session) -> list[LtiPlatform]:
    return list(session.scalars(select(LtiPlatform).order_by(LtiPlatform.name, LtiPlatform.id)))


def remove_platform(session: Session, platform: LtiPlatform) -> None:
    """Remove a platform and every link to it; the people and cohorts made for it stay."""
    session.execute(delete(LtiLaunchState).where(LtiLaunchState.platform_id == platform.id))
    session.execute(delete(LtiNonce).where(LtiNonce.platform_id == platform.id))
    session.delete(platform)
    session.flush()


def find_platform(session: Session, issuer: str, client_id: str | None) -> LtiPlatform:
    """The platform starting a log-in. Without a client id, the issuer must be registered
    once only (else lms cannot tell which registration is meant)."""
    query = select(LtiPlatform).where(LtiPlatform.issuer == issuer)
    if client_id:
        query = query.where(LtiPlatform.client_id == client_id)
    found = list(session.scalars(query.limit(2)))
    if len(found) != 1:
        raise LtiError(_l("This platform is not registered in lms (or names no client id): "
                          "ask lms's admin to register it."))
    return found[0]


# ---------------------------------------------------------------------------------------------
# lms's own key

def tool_keys(session: Session) -> list[LtiToolKey]:
    return list(session.scalars(select(LtiToolKey).order_by(LtiToolKey.id)))


def signing_key(session: Session) -> RSAKey:
    """lms's key for client assertions: the oldest, made (and committed apart from the
    request's work) the first time one is needed."""
    keys = tool_keys(session)
    if not keys:
        key = RSAKey.generate_key(2048, auto_kid=True)
        try:
            with session.begin_nested():
                session.add(LtiToolKey(kid=key.kid,
                                       private_pem=key.as_pem(private=True).decode("ascii")))
        except IntegrityError:
            pass
        keys = tool_keys(session)
    row = keys[0]
    return RSAKey.import_key(row.private_pem, parameters={"kid": row.kid})


def public_key_set(session: Session) -> dict[str, Any]:
    """The JWK Set of lms's public keys (what a platform fetches to check assertions)."""
    keys = []
    for row in tool_keys(session):
        key = RSAKey.import_key(row.private_pem, parameters={"kid": row.kid})
        keys.append({**key.as_dict(private=False), "alg": "RS256", "use": "sig"})
    return {"keys": keys}


# ---------------------------------------------------------------------------------------------
# The platform's key set, cached per URL

KEY_SET_TTL_SECONDS = 300
_key_sets: dict[str, tuple[float, KeySet]] = {}
_key_sets_lock = threading.Lock()


def forget_key_set(url: str) -> None:
    with _key_sets_lock:
        _key_sets.pop(url, None)


def _fetch_key_set(url: str, timeout: float) -> KeySet:
    try:
        answer = http_request("GET", url, headers={"Accept": "application/json"},
                              timeout=timeout)
        if answer.status != 200:
            raise LtiError(_l("The platform's key set answered %(status)s.",
                              status=answer.status))
        data = answer.json()
        keys = [k for k in data.get("keys", []) if isinstance(k, dict) and k.get("kty") == "RSA"]
        return KeySet.import_key_set({"keys": keys})
    except LtiError:
        raise
    except (OSError, ValueError, AttributeError, jose_errors.JoseError) as exc:
        raise LtiError(_l("lms could not read the platform's key set.")) from exc


# A token naming a key not in the cached set (the platform rotated its keys) fetches the set
# again, but not more often than this: forged tokens cannot make lms hammer the platform.
KEY_SET_REFETCH_SECONDS = 30


def key_set(url: str, kid: str | None, timeout: float = 5.0) -> KeySet:
    """The platform's keys, cached for ``KEY_SET_TTL_SECONDS`` per URL."""
    now = time.monotonic()
    with _key_sets_lock:
        cached = _key_sets.get(url)
    if cached is not None and cached[0] > now:
        expires, keys = cached
        fetched = expires - KEY_SET_TTL_SECONDS
        if kid is None or any(k.kid == kid for k in keys.keys) or \
                now - fetched < KEY_SET_REFETCH_SECONDS:
            return keys
    keys = _fetch_key_set(url, timeout)
    with _key_sets_lock:
        _key_sets[url] = (now + KEY_SET_TTL_SECONDS, keys)
    return keys


# ---------------------------------------------------------------------------------------------
# Log-in initiation and launch

def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LoginStart:
    state: str
    nonce: str
    redirect_url: str


def begin_login(session: Session, platform: LtiPlatform, *, target_link_uri: str,
                login_hint: str, message_hint: str | None, redirect_uri: str,
                now: datetime | None = None) -> LoginStart:
    """Keep a new state and nonce and build the authorisation request (OIDC implicit flow,
    form_post); states past their time are cleared on the way."""
    now = now or utcnow()
    session.execute(delete(LtiLaunchState).where(LtiLaunchState.expires_at < now))
    session.execute(delete(LtiNonce).where(LtiNonce.expires_at < now))
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(LtiLaunchState(state_hash=_hash(state), nonce=nonce, platform_id=platform.id,
                               target_link_uri=target_link_uri[:1000],
                               expires_at=now + STATE_LIFETIME))
    session.flush()
    params = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post",
              "prompt": "none", "client_id": platform.client_id, "redirect_uri": redirect_uri,
              "login_hint": login_hint, "state": state, "nonce": nonce}
    if message_hint:
        params["lti_message_hint"] = message_hint
    parts = urlsplit(platform.auth_login_url)
    query = "&".join(p for p in (parts.query, urlencode(params)) if p)
    return LoginStart(state, nonce, urlunsplit(parts._replace(query=query)))


@dataclass
class Launch:
    platform: LtiPlatform
    claims: dict[str, Any]
    target_link_uri: str

    @property
    def sub(self) -> str:
        return self.claims["sub"]

    @property
    def roles(self) -> list[str]:
        return [r for r in self.claims.get(CLAIM + "roles", []) if isinstance(r, str)]

    @property
    def context(self) -> dict[str, Any]:
        return self.claims.get(CLAIM + "context") or {}

    @property
    def resource_link(self) -> dict[str, Any]:
        return self.claims.get(CLAIM + "resource_link") or {}

    @property
    def ags(self) -> dict[str, Any]:
        value = self.claims.get(AGS_CLAIM)
        return value if isinstance(value, dict) else {}


def _role_names(uris: Iterable[str]) -> set[str]:
    """Context roles by name: ``...membership#Instructor``, ``...membership/Instructor#TA`` and
    the short ``Instructor`` are all Instructor. System and institution roles count for
    nothing (a platform administrator is not an lms admin)."""
    names = set()
    for uri in uris:
        if uri in (LEARNER, INSTRUCTOR):
            names.add(uri)
            continue
        prefix = "http://purl.imsglobal.org/vocab/lis/v2/membership"
        if not uri.startswith(prefix):
            continue
        rest = uri[len(prefix):]
        if rest.startswith("#"):
            names.add(rest[1:])
        elif rest.startswith("/"):
            names.add(rest[1:].split("#", 1)[0])
    return names


def lms_role(launch: Launch) -> str:
    """Instructor -> trainer, Learner -> trainee; anything else is refused."""
    names = _role_names(launch.roles)
    if INSTRUCTOR in names:
        return TRAINER
    if LEARNER in names:
        return TRAINEE
    raise RoleRefused(_l("Your role in this course is neither Learner nor Instructor, so lms "
                         "cannot tell what to show you."))


def _check_claims(claims: dict[str, Any], platform: LtiPlatform, state: LtiLaunchState,
                  now: datetime) -> None:
    def refuse(why: Any) -> None:
        raise LtiError(_l("This launch cannot be accepted: %(why)s.", why=why))

    if claims.get("iss") != platform.issuer:
        refuse(_l("it comes from another issuer"))
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if platform.client_id not in audiences:
        refuse(_l("it is not meant for lms (audience)"))
    if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != platform.client_id:
        refuse(_l("it is not meant for lms (authorised party)"))
    stamp = now.timestamp()
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or exp + LEEWAY_SECONDS < stamp:
        refuse(_l("it has expired"))
    if not isinstance(iat, int | float) or iat - LEEWAY_SECONDS > stamp or \
            stamp - iat > MAX_TOKEN_AGE_SECONDS:
        refuse(_l("its time of issue is wrong"))
    if not isinstance(claims.get("nonce"), str) or \
            not secrets.compare_digest(claims["nonce"], state.nonce):
        refuse(_l("its nonce is not the one lms sent"))
    if not isinstance(claims.get("sub"), str) or not claims["sub"] or len(claims["sub"]) > 255:
        refuse(_l("it names nobody (sub)"))
    if claims.get(CLAIM + "deployment_id") not in platform.deployment_ids:
        refuse(_l("its deployment is not registered in lms"))
    if claims.get(CLAIM + "message_type") != RESOURCE_LINK:
        refuse(_l("only resource-link launches are supported"))
    if claims.get(CLAIM + "version") != LTI_VERSION:
        refuse(_l("only LTI 1.3.0 is supported"))
    if claims.get(CLAIM + "target_link_uri") != state.target_link_uri:
        refuse(_l("the page asked for changed between log-in and launch"))
    resource = claims.get(CLAIM + "resource_link")
    if not isinstance(resource, dict) or not isinstance(resource.get("id"), str):
        refuse(_l("it names no resource link"))
    context = claims.get(CLAIM + "context")
    if not isinstance(context, dict) or not isinstance(context.get("id"), str) or \
            not context["id"] or len(context["id"]) > 255:
        refuse(_l("it names no course (context)"))
    if not isinstance(claims.get(CLAIM + "roles"), list):
        refuse(_l("it names no roles"))


def validate_launch(session: Session, *, id_token: str, state: str,
                    now: datetime | None = None, timeout: float = 5.0) -> Launch:
    """Check a launch (see the module docstring) and spend its state and nonce. Flushes the
    nonce; the caller commits with the rest of the launch."""
    now = now or utcnow()
    if not id_token or not state or len(id_token) > 20000 or len(state) > 200:
        raise LtiError(_l("This launch carries no id_token or state."))
    pending = session.scalar(select(LtiLaunchState).where(
        LtiLaunchState.state_hash == _hash(state)))
    if pending is None or pending.expires_at < now:
        raise ReplayedLaunch(_l("This launch was used already or took too long: open the link "
                                "in the course again."))
    platform = session.get(LtiPlatform, pending.platform_id)
    try:
        header = _header(id_token)
    except (ValueError, UnicodeError) as exc:
        raise LtiError(_l("The id_token is not a JWT.")) from exc
    if header.get("alg") != "RS256":
        raise LtiError(_l("The id_token must be signed with RS256."))
    keys = key_set(platform.key_set_url, header.get("kid"), timeout)
    try:
        token = jwt.decode(id_token, keys, algorithms=["RS256"])
    except (ValueError, jose_errors.JoseError) as exc:
        raise LtiError(_l("The id_token's signature does not match the platform's keys.")) \
            from exc
    claims = dict(token.claims)
    _check_claims(claims, platform, pending, now)
    spent = session.execute(delete(LtiLaunchState).where(LtiLaunchState.id == pending.id)
                            .execution_options(synchronize_session=False))
    if spent.rowcount != 1:
        raise ReplayedLaunch(_l("This launch was used already: open the link in the course again."))
    try:
        with session.begin_nested():
            session.add(LtiNonce(platform_id=platform.id, nonce=claims["nonce"][:255],
                                 expires_at=now + timedelta(seconds=MAX_TOKEN_AGE_SECONDS)))
    except IntegrityError:
        raise ReplayedLaunch(_l("This launch was used already: open the link in the course "
                                "again.")) from None
    return Launch(platform, claims, pending.target_link_uri)


def _header(token: str) -> dict[str, Any]:
    """The JWT's header, read before its signature is checked (to pick the key)."""
    first = token.split(".", 1)[0]
    header = json.loads(base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)))
    if not isinstance(header, dict):
        raise ValueError("not a JWT header")
    return header


# ---------------------------------------------------------------------------------------------
# Who and where: the person, the course's cohort, the gradebook column

def _name_of(claims: dict[str, Any]) -> str:
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        parts = [claims.get(k) for k in ("given_name", "family_name")]
        name = " ".join(p for p in parts if isinstance(p, str) and p.strip())
    return (name or "").strip()[:200] or "Course participant"


def _free_email(session: Session, claims: dict[str, Any], platform: LtiPlatform,
                sub: str) -> str:
    """An address that reaches nobody (``.invalid``), never the platform's: a platform's email
    is not proven to be the person's, and as the account's address it could claim an address
    before its owner (an enrolment or a password reset would then find the wrong person)."""
    return f"lti-{platform.id}-{_hash(sub)[:24]}@lti.invalid"


def person_for(session: Session, launch: Launch, role: str) -> Person:
    """The person of this platform's ``sub``, made on the first launch (no password: they
    come in through the platform), with ``role`` added if missing."""
    platform, sub = launch.platform, launch.sub
    link = session.scalar(select(LtiUser).where(LtiUser.platform_id == platform.id,
                                                LtiUser.sub == sub))
    if link is not None:
        person = session.get(Person, link.person_id)
        if not person.active:
            raise LtiError(_l("Your training account is switched off. Ask the programme's admin."))
        name = _name_of(launch.claims)
        if name != "Course participant" and name != person.name:
            person.name = name
    else:
        person = Person(email=_free_email(session, launch.claims, platform, sub),
                        name=_name_of(launch.claims), active=True)
        try:
            with session.begin_nested():
                session.add(person)
                session.flush()
                session.add(LtiUser(platform_id=platform.id, sub=sub, person_id=person.id))
        except IntegrityError:  # the same person's launch in another tab a moment ago
            raise ReplayedLaunch(_l("Your account was being made by another launch: open the "
                                    "link in the course again.")) from None
    if role not in person.roles:
        person.role_rows.append(PersonRole(role=role))
        session.flush()
    return person


def context_for(session: Session, launch: Launch, curriculum: Curriculum) -> LtiContext:
    """The course's link to its lms cohort for ``curriculum``, made (with a new cohort named
    for the course) on its first launch; the AGS endpoints are kept up to date."""
    claim = launch.context
    found = session.scalar(select(LtiContext).where(
        LtiContext.platform_id == launch.platform.id, LtiContext.context_id == claim["id"],
        LtiContext.curriculum_id == curriculum.id))
    title = str(claim.get("title") or claim.get("label") or claim["id"]).strip()[:200]
    if found is None:
        cohort = cohorts_service.create_cohort(session, name=title or "Course",
                                               curriculum=curriculum)
        found = LtiContext(platform_id=launch.platform.id, context_id=claim["id"],
                           curriculum_id=curriculum.id, cohort_id=cohort.id, title=title)
        try:
            with session.begin_nested():
                session.add(found)
        except IntegrityError:
            raise ReplayedLaunch(_l("This course was being set up by another launch: open the "
                                    "link in the course again.")) from None
    ags = launch.ags
    scopes = [s for s in ags.get("scope", []) if isinstance(s, str)]
    if isinstance(ags.get("lineitems"), str) and on_platform_host(launch.platform,
                                                                  ags["lineitems"]):
        found.lineitems_url = ags["lineitems"][:1000]
    if scopes:
        found.ags_scopes = scopes
    session.flush()
    return found


def note_line_item(session: Session, context: LtiContext, launch: Launch, key: str) -> None:
    """Keep the line item the platform made for this link (its gradebook column)."""
    url = launch.ags.get("lineitem")
    if not isinstance(url, str) or not on_platform_host(launch.platform, url):
        return
    row = session.scalar(select(LtiLineItem).where(LtiLineItem.context_id == context.id,
                                                   LtiLineItem.resource_key == key))
    if row is None:
        try:
            with session.begin_nested():
                session.add(LtiLineItem(context_id=context.id, resource_key=key,
                                        url=url[:1000]))
        except IntegrityError:
            pass
    elif row.url != url:
        row.url = url[:1000]
    session.flush()


@dataclass
class Entered:
    person: Person
    role: str
    cohort: Cohort


def enter(session: Session, launch: Launch, module: Module) -> Entered:
    """Everything a valid launch of ``module`` makes: the person, their role, the course's
    cohort, their place in it, and the gradebook column of the link."""
    role = lms_role(launch)
    person = person_for(session, launch, role)
    context = context_for(session, launch, module.curriculum)
    cohort = session.get(Cohort, context.cohort_id)
    if role == TRAINEE:
        cohorts_service.enrol(session, cohort, person)
    else:
        exists = session.scalar(select(CohortStaff.id).where(
            CohortStaff.cohort_id == cohort.id, CohortStaff.person_id == person.id,
            CohortStaff.role == TRAINER))
        if exists is None:
            try:
                with session.begin_nested():
                    session.add(CohortStaff(cohort_id=cohort.id, person_id=person.id,
                                            role=TRAINER))
            except IntegrityError:
                pass
    note_line_item(session, context, launch, module_key(module.slug))
    return Entered(person, role, cohort)


def module_key(slug: str) -> str:
    return f"module:{slug}"


# ---------------------------------------------------------------------------------------------
# Assignment and Grade Services

def client_assertion(session: Session, platform: LtiPlatform,
                     now: datetime | None = None) -> str:
    """A JWT proving lms is the client (RFC 7523), signed with lms's key."""
    stamp = int((now or utcnow()).timestamp())
    key = signing_key(session)
    claims = {"iss": platform.client_id, "sub": platform.client_id,
              "aud": platform.auth_token_url, "iat": stamp, "exp": stamp + 300,
              "jti": secrets.token_urlsafe(16)}
    return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, key)


def access_token(session: Session, platform: LtiPlatform, scopes: list[str],
                 timeout: float = 5.0) -> str:
    body = urlencode({
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client_assertion(session, platform),
        "scope": " ".join(scopes)}).encode("ascii")
    answer = http_request("POST", platform.auth_token_url, body=body, timeout=timeout,
                          headers={"Content-Type": "application/x-www-form-urlencoded",
                                   "Accept": "application/json"})
    if answer.status != 200:
        raise LtiError(f"The platform's token endpoint answered {answer.status}.")
    token = answer.json().get("access_token")
    if not isinstance(token, str) or not token:
        raise LtiError(_l("The platform's token endpoint gave no access token."))
    return token


def scores_url(line_item_url: str) -> str:
    """``<line item>/scores``, keeping the line item's query string where it belongs."""
    parts = urlsplit(line_item_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


@dataclass(frozen=True)
class Score:
    given: float
    maximum: float
    comment: str


def post_score(session: Session, platform: LtiPlatform, line_item_url: str, sub: str,
               score: Score, token: str, now: datetime | None = None,
               timeout: float = 5.0) -> None:
    body = {"userId": sub, "scoreGiven": score.given, "scoreMaximum": score.maximum,
            "comment": score.comment, "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "timestamp": (now or utcnow()).isoformat(timespec="milliseconds")}
    answer = http_request("POST", scores_url(line_item_url),
                          body=json.dumps(body).encode("utf-8"), timeout=timeout,
                          headers={"Content-Type": "application/vnd.ims.lis.v1.score+json",
                                   "Authorization": f"Bearer {token}"})
    if answer.status not in (200, 201, 202, 204):
        raise LtiError(f"The platform refused the score ({answer.status}).")


def _readiness_line_item(session: Session, context: LtiContext, token: str,
                         timeout: float) -> str | None:
    """The course's "Readiness" column: kept, or made in the platform (needs the lineitem
    scope)."""
    row = session.scalar(select(LtiLineItem).where(LtiLineItem.context_id == context.id,
                                                   LtiLineItem.resource_key == READINESS_KEY))
    if row is not None:
        return row.url
    if not context.lineitems_url or SCOPE_LINEITEM not in context.ags_scopes:
        return None
    body = {"scoreMaximum": 1, "label": "Readiness", "resourceId": "lms-readiness",
            "tag": "readiness"}
    answer = http_request("POST", context.lineitems_url, body=json.dumps(body).encode("utf-8"),
                          timeout=timeout,
                          headers={"Content-Type": "application/vnd.ims.lis.v2.lineitem+json",
                                   "Accept": "application/vnd.ims.lis.v2.lineitem+json",
                                   "Authorization": f"Bearer {token}"})
    url = answer.json().get("id") if answer.status in (200, 201) else None
    if not isinstance(url, str) or not on_platform_host(context.platform, url):
        raise LtiError(f"The platform did not make the Readiness column ({answer.status}).")
    try:
        with session.begin_nested():
            session.add(LtiLineItem(context_id=context.id, resource_key=READINESS_KEY,
                                    url=url[:1000]))
    except IntegrityError:  # made by another sender at once: use theirs
        return session.scalar(select(LtiLineItem.url).where(
            LtiLineItem.context_id == context.id, LtiLineItem.resource_key == READINESS_KEY))
    return url


@dataclass(frozen=True)
class Target:
    context: LtiContext
    sub: str


def _targets(session: Session, person_id: int, curriculum_id: int) -> list[Target]:
    """The courses where ``person_id`` is a trainee of the linked cohort, with their sub."""
    from lms.models import Enrolment

    rows = session.execute(
        select(LtiContext, LtiUser.sub)
        .join(LtiUser, (LtiUser.platform_id == LtiContext.platform_id)
              & (LtiUser.person_id == person_id))
        .join(Enrolment, (Enrolment.cohort_id == LtiContext.cohort_id)
              & (Enrolment.person_id == person_id))
        .where(LtiContext.curriculum_id == curriculum_id)
        .order_by(LtiContext.id)).all()
    return [Target(context, sub) for context, sub in rows]


def quiz_score(session: Session, person_id: int, quiz_id: int) -> Score | None:
    """The best submitted score (percent, out of 100), and whether the quiz is passed."""
    rows = session.execute(select(Attempt.score, Attempt.passed).where(
        Attempt.person_id == person_id, Attempt.quiz_id == quiz_id,
        Attempt.submitted_at.is_not(None))).all()
    if not rows:
        return None
    best = max(float(score or 0) for score, _passed in rows)
    passed = any(p for _s, p in rows)
    return Score(best, 100.0, "Passed" if passed else "Not passed yet")


def readiness_score(session: Session, person_id: int, curriculum_id: int) -> Score:
    """1 of 1 while a sign-off for deployment stands (not revoked), else 0."""
    ready = bool(sign_offs.live_deploys(session, person_id, curriculum_id))
    return Score(1.0 if ready else 0.0, 1.0, "Signed off as ready" if ready else "Not ready yet")


@dataclass
class Sent:
    sent: int = 0
    failed: int = 0


def _send(session: Session, sends: list[tuple[Target, str | None, Score]], *,
          readiness: bool, timeout: float, now: datetime | None) -> Sent:
    """Post each score; a failure is logged and counted, never raised (the trainee's page
    has gone already)."""
    outcome = Sent()
    for target, url, score in sends:
        platform = target.context.platform
        try:
            scopes = [SCOPE_SCORE] + ([SCOPE_LINEITEM] if readiness and SCOPE_LINEITEM
                                      in target.context.ags_scopes else [])
            token = access_token(session, platform, scopes, timeout)
            if readiness:
                url = _readiness_line_item(session, target.context, token, timeout)
            if url is None:
                continue
            post_score(session, platform, url, target.sub, score, token, now, timeout)
            outcome.sent += 1
        except (LtiError, OSError, ValueError) as exc:
            outcome.failed += 1
            log.warning("lms could not send a grade to %s (course %s): %s", platform.issuer,
                        target.context.context_id, exc)
    return outcome


def send_quiz_grade(session: Session, person_id: int, quiz_id: int, *,
                    timeout: float = 5.0, now: datetime | None = None) -> Sent:
    """Send the person's quiz result to every linked course whose column it is."""
    quiz = session.get(Quiz, quiz_id)
    if quiz is None:
        return Sent()
    module = session.get(Module, quiz.module_id)
    score = quiz_score(session, person_id, quiz_id)
    if score is None:
        return Sent()
    sends = []
    for target in _targets(session, person_id, module.curriculum_id):
        url = session.scalar(select(LtiLineItem.url).where(
            LtiLineItem.context_id == target.context.id,
            LtiLineItem.resource_key == module_key(module.slug)))
        if url is not None and SCOPE_SCORE in target.context.ags_scopes:
            sends.append((target, url, score))
    return _send(session, sends, readiness=False, timeout=timeout, now=now)


def send_readiness(session: Session, person_id: int, curriculum_id: int, *,
                   timeout: float = 5.0, now: datetime | None = None) -> Sent:
    """Send the person's readiness (1 or 0) to the "Readiness" column of every linked course."""
    score = readiness_score(session, person_id, curriculum_id)
    sends = [(t, None, score) for t in _targets(session, person_id, curriculum_id)
             if SCOPE_SCORE in t.context.ags_scopes]
    sent = _send(session, sends, readiness=True, timeout=timeout, now=now)
    session.flush()
    return sent


def linked_trainees(session: Session) -> list[tuple[int, int]]:
    """Every (person, curriculum) with a linked course: what ``lms lti send-grades`` sends."""
    from lms.models import Enrolment

    rows = session.execute(
        select(LtiUser.person_id, LtiContext.curriculum_id)
        .join(LtiContext, LtiContext.platform_id == LtiUser.platform_id)
        .join(Enrolment, (Enrolment.cohort_id == LtiContext.cohort_id)
              & (Enrolment.person_id == LtiUser.person_id))
        .distinct().order_by(LtiUser.person_id, LtiContext.curriculum_id)).all()
    return [(person_id, curriculum_id) for person_id, curriculum_id in rows]
