"""The security headers of every answer, set in one place: CSP with a per-request nonce,
Permissions-Policy, HSTS under HTTPS, and the older ones (nosniff, frame and referrer policy)."""
from __future__ import annotations

import secrets

from flask import Flask, g

# The app serves every script, style, font and image itself (Bootstrap included, BOOTSTRAP_SERVE_LOCAL),
# so nothing is allowed from elsewhere. Scripts and <style> blocks run only from our files or with
# the request's nonce; style="" attributes stay allowed (no script runs from them, and Bootstrap's
# markup uses them). Charts embedded in packets are data: images.
POLICY = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
          "style-src-attr 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
          "worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
          "frame-ancestors 'none'")
# Nothing in the app uses these browser features; a script that got in could not either.
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=31536000; includeSubDomains"


def csp_nonce() -> str:
    """This request's nonce, for `<script nonce="{{ csp_nonce() }}">` in a template."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def register(app: Flask) -> None:
    """Add the headers to every answer; `csp_nonce()` to templates."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.before_request
    def fresh_nonce():
        """A new nonce for each request, even when an app context outlives a request (tests)."""
        g.pop("csp_nonce", None)

    @app.after_request
    def security_headers(response):
        headers = response.headers
        # An image (an SVG chart opened on its own) keeps its own inline styles.
        if not response.mimetype.startswith("image/"):
            headers.setdefault("Content-Security-Policy", POLICY.format(nonce=csp_nonce()))
        headers.setdefault("Permissions-Policy", PERMISSIONS)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("ESD_HTTPS"):
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
