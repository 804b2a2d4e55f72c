"""Policy as code: ``chatref policy check`` proves Terraform meets the production guide.

Data flows one way::

    engine     run checkov (in .venv-checkov) with rules/ loaded  -> CheckRecord list
    aggregate  configuration-wide rules, central modules (sources) -> CheckRecord list
    report     profile levels, overrides (overrides)               -> Report
    formats    table | json | sarif | junit                        -> text

``catalog`` holds every rule's metadata; ``check.policy_check`` wires the steps together.
"""
