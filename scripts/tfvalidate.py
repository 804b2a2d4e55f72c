"""Offline `terraform validate` for chatref's Terraform: the command line of chatref.infra_validate.

Usage::

    python scripts/tfvalidate.py infra                # every directory holding .tf files
    python scripts/tfvalidate.py infra --fmt
    python scripts/tfvalidate.py infra/environments/prod --json

The checks, and what they do not cover, are listed in chatref/infra_validate/__init__.py.
"""

from __future__ import annotations

import sys

from chatref.infra_validate import main

if __name__ == "__main__":
    sys.exit(main())
