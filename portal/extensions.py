"""Unbound extension singletons (cookiecutter-flask style); bound in create_app."""
from __future__ import annotations

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from portal.core.replica import RoutingSession
from portal.db import Base

db = SQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def client_ip() -> str:
    """The client address used for rate limits (ProxyFix rewrites it when behind nginx)."""
    return request.remote_addr or "unknown"
