"""The standalone app: ``lms.create_app()``."""

from __future__ import annotations

import gc
import os
import secrets
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from lms.config import DEFAULT_CONFIG
from lms.extension import LMS
from lms.web.blueprint import error_page, security_headers


class ConfigurationError(RuntimeError):
    pass


def _behind_proxies(app: Flask) -> None:
    """Trust the forwarded headers of ``LMS_TRUSTED_PROXIES`` proxies (werkzeug's ProxyFix),
    so the log-in throttle sees clients' addresses and links say https behind TLS. 0: none."""
    try:
        count = int(app.config.get("LMS_TRUSTED_PROXIES") or 0)
    except (TypeError, ValueError):
        raise ConfigurationError("LMS_TRUSTED_PROXIES must be a whole number") from None
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count,
                                x_prefix=count)


def create_app(config: dict[str, Any] | None = None, *, serving: bool = True) -> Flask:
    """Build the standalone app. ``config`` overrides environment and defaults.

    ``serving`` is False for CLI commands that never answer requests (validate, sync, ...): they
    need no secret key and do not migrate the database on start-up.
    """
    instance = os.environ.get("LMS_INSTANCE_PATH") or os.path.join(os.getcwd(), "instance")
    app = Flask("lms", instance_path=os.path.abspath(instance),
                instance_relative_config=True)
    app.config["LMS_AUTO_UPGRADE"] = serving
    for key, value in os.environ.items():
        if key.startswith("LMS_") and key not in ("LMS_INSTANCE_PATH",):
            app.config[key] = _parse_env(key, value)
    if not app.config.get("LMS_DATABASE_URI") and os.environ.get("DATABASE_URL"):
        app.config["LMS_DATABASE_URI"] = os.environ["DATABASE_URL"]  # the usual PaaS name
    if os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default is None: no limit
        app.config["MAX_CONTENT_LENGTH"] = 8 * 1024 * 1024  # uploads here are small CSVs
    app.config.update(config or {})
    if not serving and not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secrets.token_hex(32)  # never signs anything a user sees
    _ensure_secret_key(app)
    LMS(app)
    _behind_proxies(app)
    # Served over HTTPS (LMS_PUBLIC_URL says so, or LMS_SESSION_COOKIE_SECURE): the log-in
    # cookie never travels over plain HTTP.
    secure = app.config.get("LMS_SESSION_COOKIE_SECURE")
    if isinstance(secure, str):  # from the environment
        secure = secure.strip().lower() in ("true", "1", "yes", "on")
    if secure is None:
        secure = str(app.config.get("LMS_PUBLIC_URL") or "").startswith("https://")
    app.config["SESSION_COOKIE_SECURE"] = bool(secure)

    for code in (400, 403, 404, 405, 413, 422, 429, 500):
        app.register_error_handler(code, error_page)
    # The standalone app is all lms: its own pages (a 404 for an unknown URL) get them too.
    app.after_request(security_headers)
    if serving and not app.testing:
        _freeze_start_up()
    return app


_frozen = False


def _freeze_start_up() -> None:
    """What start-up made (modules, models, the app) lives as long as the process: moved out of
    the collector's reach, a full collection no longer walks all of it in the middle of a
    request (it tripled the 95th percentile of the big reports). Once per process: a host that
    builds apps again and again would otherwise freeze garbage it can never collect."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


def _parse_env(key: str, value: str) -> Any:
    """Read an environment value as the type of the key's default (text if it has none)."""
    default = DEFAULT_CONFIG.get(key)
    if isinstance(default, bool):
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off", ""):
            return False
        raise ConfigurationError(f"{key} must be true or false, not {value!r}.")
    if isinstance(default, int):
        try:
            return int(value)
        except ValueError:
            raise ConfigurationError(f"{key} must be a whole number, not {value!r}.") from None
    if isinstance(default, float):
        try:
            return float(value)
        except ValueError:
            raise ConfigurationError(f"{key} must be a number, not {value!r}.") from None
    return value


def _ensure_secret_key(app: Flask) -> None:
    if app.config.get("SECRET_KEY"):
        return
    if app.config.get("LMS_DEMO") or app.config.get("TESTING"):
        # Demo mode keeps one generated key in the instance folder so restarts keep sessions.
        os.makedirs(app.instance_path, exist_ok=True)
        path = os.path.join(app.instance_path, "demo_secret_key")
        if not os.path.exists(path):
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(secrets.token_hex(32))
        with open(path, encoding="utf-8") as handle:
            app.config["SECRET_KEY"] = handle.read().strip()
        return
    raise ConfigurationError(
        "lms will not start without a secret key. Set SECRET_KEY (a long random string, e.g. "
        "python -c 'import secrets; print(secrets.token_hex(32))'), or run `lms demo`."
    )
