"""Who is calling: Entra ID bearer tokens, App Service Easy Auth principals, or the local user.

No web framework here: ``web/auth.py`` reads the request and calls these. See docs/security.md.
"""
