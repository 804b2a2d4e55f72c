"""chatref's checkov custom checks.

These modules are loaded by checkov (``--external-checks-dir``) inside ``.venv-checkov``, never
imported by the app: checkov pins old libraries and must stay out of the app's environment.
Rule metadata (title, severity, rationale, profiles) lives in ``chatref.policy.catalog``.
"""
