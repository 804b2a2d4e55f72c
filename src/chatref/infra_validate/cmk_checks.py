"""Azure OpenAI customer-managed keys as Azure accepts them (issue 11 finding 2): ``openai-cmk``.

Azure OpenAI unwraps its customer-managed key with the account's system-assigned identity (a
user-assigned one is not supported), takes RSA 2048 keys only, and only from a Key Vault in the
account's own region: a second account in another region needs a vault of its own. Each rule
spans resources in different modules (the key and its vault in ``key_vault``, the account and
the attachment in ``openai``, joined by the environment), so neither the schema nor a
per-resource policy rule can see it. This check follows every
``azurerm_cognitive_account_customer_managed_key`` under a root module, instance by instance,
through ``for_each``, variables, locals, module calls and outputs, to the account, the key and
the vault, and compares:

- the account's ``identity.type`` includes ``SystemAssigned``, and the attachment sets no
  ``identity_client_id``;
- the key's ``key_type`` is ``RSA`` or ``RSA-HSM`` and its ``key_size`` 2048 (every branch of a
  conditional);
- the vault has purge protection on (``purge_protection_enabled = true``; soft delete is always
  on in azurerm 4.x): Azure refuses a key from a vault without both;
- the vault's ``location`` is the account's: the same literal region, or the same expression at
  the root (``var.location`` on both sides). Two different root variables count as different
  regions: a guardrail that cannot prove the regions equal does not assume it.

A key handed in from outside (a literal ID, a root variable) cannot be followed: that is a
warning (``openai-cmk-warning``), since the vault it lives in is not in this configuration.

>>> from pathlib import Path
>>> from chatref.infra_validate.model import ModuleDir
>>> found = []
>>> check_openai_cmk(ModuleDir(Path(".")), {}, lambda *args: found.append(args))
>>> found
[]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from chatref.infra_validate.hcl import load_module_dir, unquote
from chatref.infra_validate.model import Add, Block, ModuleDir

CMK = "azurerm_cognitive_account_customer_managed_key"
KEY_TYPES = {"RSA", "RSA-HSM"}
KEY_SIZE = 2048
_MAX_DEPTH = 4
_PATH = re.compile(r"^(?P<head>[A-Za-z_][\w-]*)(?P<rest>(?:\.[A-Za-z_][\w-]*|\[[^\]]+\])*)$")
_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\[([^\]]+)\]")


@dataclass(frozen=True)
class Symbol:
    """A value this check cannot compute, named by where it comes from (``root:var.location``)."""

    text: str


@dataclass(frozen=True)
class Alternatives:
    """The branches of a conditional that can both happen."""

    options: tuple[Any, ...]


@dataclass
class Scope:
    """One module instance: its directory, the call that made it and the ``each`` in force."""

    mod: ModuleDir
    name: str
    loaded: dict[Path, ModuleDir]
    args: dict[str, Any] | None = None
    caller: Scope | None = None
    each_key: Any = None
    each_value: Any = None
    depth: int = 0


@dataclass(frozen=True)
class Obj:
    """An object or map literal, with the scope its values are written in."""

    items: dict[str, Any]
    scope: Scope = field(compare=False)


@dataclass(frozen=True)
class Resource:
    """A resource (one instance when ``key`` is set) and the scope it is declared in."""

    block: Block
    scope: Scope = field(compare=False)
    key: Any = None

    @property
    def identity(self) -> str:
        return f"{self.scope.name}:{self.block.address}[{self.key}]"

    def bound(self) -> Scope:
        """The resource's scope with ``each`` set to this instance."""
        if self.key is None or "for_each" not in self.block.body:
            return self.scope
        each_value = index(evaluate(self.block.body["for_each"], self.scope), self.key)
        return replace(self.scope, each_key=self.key, each_value=each_value)


def _split_conditional(expr: str) -> tuple[str, str, str] | None:
    depth, quoted, question = 0, False, -1
    for i, ch in enumerate(expr):
        if ch == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch == "?" and question < 0:
            question = i
        elif depth == 0 and ch == ":" and question >= 0:
            return expr[:question].strip(), expr[question + 1:i].strip(), expr[i + 1:].strip()
    return None


def _truth(condition: str, scope: Scope) -> bool | None:
    """A condition's value when it is a (negated) reference to a literal bool, else None."""
    negate = condition.startswith("!")
    value = evaluate("${" + condition.lstrip("!").strip() + "}", scope)
    if isinstance(value, str) and value in ("true", "false"):
        value = value == "true"
    if not isinstance(value, bool):
        return None
    return value != negate


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, Obj) and not value.items)


def evaluate(value: Any, scope: Scope) -> Any:
    """A literal, an ``Obj``, a ``Resource``, ``Alternatives`` or a ``Symbol``."""
    if isinstance(value, dict):
        return Obj({unquote(str(k)): v for k, v in value.items() if not str(k).startswith("__")},
                   scope)
    if not isinstance(value, str):
        return value
    if value.startswith('"') and "${" not in value:
        return unquote(value)
    if not (value.startswith("${") and value.endswith("}")) or "${" in value[2:]:
        return Symbol(f"{scope.name}:{value}")
    return _expression(value[2:-1].strip(), scope)


def _expression(expr: str, scope: Scope) -> Any:
    conditional = _split_conditional(expr)
    if conditional:
        condition = _truth(conditional[0], scope)
        if condition is not None:
            return evaluate("${" + conditional[1 if condition else 2] + "}", scope)
        options = [evaluate("${" + branch + "}", scope) for branch in conditional[1:]]
        kept = tuple(o for o in options if not _empty(o))
        return kept[0] if len(kept) == 1 else Alternatives(kept)
    if expr == "null":
        return None
    if expr == "{}":
        return Obj({}, scope)
    if expr.startswith('"') and expr.endswith('"') and '"' not in expr[1:-1]:
        return expr[1:-1]
    if expr.isdigit():
        return int(expr)
    match = _PATH.match(expr)
    if match is None:
        return Symbol(f"{scope.name}:{expr}")
    steps = [(m.group(1), m.group(2)) for m in _STEP.finditer(match["rest"])]
    return _path(match["head"], steps, scope, expr)


def _step_value(step: tuple[str | None, str | None], scope: Scope) -> Any:
    attr, idx = step
    return attr if attr is not None else evaluate("${" + str(idx) + "}", scope)


def _path(head: str, steps: list[tuple[str | None, str | None]], scope: Scope, expr: str) -> Any:
    if not steps:
        return Symbol(f"{scope.name}:{expr}")
    first = _step_value(steps[0], scope)
    rest = steps[1:]
    if head == "var":
        if scope.args is not None and first in scope.args and scope.caller is not None:
            base = evaluate(scope.args[first], scope.caller)
        elif scope.args is not None and first in scope.mod.variables and (
                "default" in scope.mod.variables[first].body):
            base = evaluate(scope.mod.variables[first].body["default"], scope)
        else:
            base = Symbol(f"{scope.name}:var.{first}")
    elif head == "local" and first in scope.mod.locals:
        base = evaluate(scope.mod.locals[first][0], scope)
    elif head == "each":
        base = scope.each_key if first == "key" else scope.each_value
    elif head == "module" and rest:
        base = _module_output(str(first), str(_step_value(rest[0], scope)), scope)
        rest = rest[1:]
    elif (head, first) in scope.mod.resources:
        base = Resource(scope.mod.resources[(head, str(first))], scope)
        if rest and rest[0][1] is not None:
            base = replace(base, key=_step_value(rest[0], scope))
        return base
    else:
        return Symbol(f"{scope.name}:{expr}")
    for step in rest:
        base = index(base, _step_value(step, scope))
    return base


def _module_output(name: str, output: str, scope: Scope) -> Any:
    call = scope.mod.modules.get(name)
    source = call.body.get("source") if call else None
    if call is None or not isinstance(source, str) or scope.depth >= _MAX_DEPTH:
        return Symbol(f"{scope.name}:module.{name}.{output}")
    path = (scope.mod.path / unquote(source)).resolve()
    callee = scope.loaded.get(path) or load_module_dir(path)
    scope.loaded[path] = callee
    if output not in callee.outputs:
        return Symbol(f"{scope.name}:module.{name}.{output}")
    inner = Scope(callee, f"{scope.name}.module.{name}", scope.loaded, call.body, scope,
                  depth=scope.depth + 1)
    return evaluate(callee.outputs[output].body.get("value"), inner)


def index(value: Any, key: Any) -> Any:
    """``value[key]`` or ``value.key``; a Resource keeps itself (its attributes are not needed)."""
    if isinstance(value, Obj):
        return evaluate(value.items[key], value.scope) if key in value.items else None
    if isinstance(value, Alternatives):
        return Alternatives(tuple(index(option, key) for option in value.options))
    if isinstance(value, Symbol):
        return Symbol(f"{value.text}.{key}")
    if isinstance(value, Resource):
        return value
    return None


def _options(value: Any) -> tuple[Any, ...]:
    return value.options if isinstance(value, Alternatives) else (value,)


def _region(value: Any) -> str:
    if isinstance(value, str):
        return value.lower().replace(" ", "")
    if isinstance(value, Symbol):
        return value.text.removeprefix("root:")
    if isinstance(value, Resource):
        return value.identity
    return repr(value)


def _scopes(root: Scope) -> list[Scope]:
    """The root and every module instance under it (calls with relative sources)."""
    found, pending = [], [root]
    while pending:
        scope = pending.pop()
        found.append(scope)
        if scope.depth >= _MAX_DEPTH:
            continue
        for name, call in sorted(scope.mod.modules.items()):
            source = call.body.get("source")
            if not isinstance(source, str) or not unquote(source).startswith(("./", "../")):
                continue
            path = (scope.mod.path / unquote(source)).resolve()
            callee = scope.loaded.get(path) or load_module_dir(path)
            scope.loaded[path] = callee
            pending.append(Scope(callee, f"{scope.name}.module.{name}", scope.loaded, call.body,
                                 scope, depth=scope.depth + 1))
    return found


def _instances(blk: Block, scope: Scope) -> list[Any]:
    if "for_each" not in blk.body:
        return [None]
    each = evaluate(blk.body["for_each"], scope)
    return sorted(each.items) if isinstance(each, Obj) else []


def key_attachments(mod: ModuleDir, loaded: dict[Path, ModuleDir]) -> list[tuple[str, Resource]]:
    """Every instance of ``azurerm_cognitive_account_customer_managed_key`` under ``mod`` as a
    root module, with its address; a ``for_each`` that does not resolve gives none."""
    found: list[tuple[str, Resource]] = []
    for scope in _scopes(Scope(mod, "root", loaded)):
        for (rtype, _), blk in sorted(scope.mod.resources.items()):
            if rtype != CMK:
                continue
            prefix = scope.name.removeprefix("root").lstrip(".")
            for key in _instances(blk, scope):
                address = f"{prefix}.{blk.address}".lstrip(".")
                found.append((address + (f'["{key}"]' if key is not None else ""),
                              Resource(blk, scope, key)))
    return found


def check_openai_cmk(mod: ModuleDir, loaded: dict[Path, ModuleDir], add: Add) -> None:
    """Add an ``openai-cmk`` finding for each Azure OpenAI key that breaks Azure's rules."""
    for address, instance in key_attachments(mod, loaded):
        for code, message in _problems(instance):
            add(instance.block.file, address, code, message)


def _problems(cmk: Resource) -> list[tuple[str, str]]:
    scope = cmk.bound()
    found: list[tuple[str, str]] = []
    if "identity_client_id" in cmk.block.body:
        found.append(("openai-cmk", "identity_client_id is set: Azure OpenAI unwraps its key "
                                    "with the system-assigned identity only"))
    account = evaluate(cmk.block.body.get("cognitive_account_id"), scope)
    if not isinstance(account, Resource):
        return [*found, ("openai-cmk-warning", "the account cannot be followed from "
                                               "cognitive_account_id: not checked")]
    account_scope = account.bound()
    identities = [b for b in account.block.body.get("identity", []) if isinstance(b, dict)]
    kinds = [evaluate(b.get("type"), account_scope) for b in identities]
    if not any("SystemAssigned" in str(k) for kind in kinds for k in _options(kind)):
        found.append(("openai-cmk", f"{account.block.address} has no system-assigned identity "
                                    "(identity { type = \"SystemAssigned\" }): Azure OpenAI "
                                    "unwraps its key with it; a user-assigned one is not "
                                    "supported"))
    key = evaluate(cmk.block.body.get("key_vault_key_id"), scope)
    if not isinstance(key, Resource) or key.block.labels[0] != "azurerm_key_vault_key":
        return [*found, ("openai-cmk-warning", f"key_vault_key_id comes from outside this "
                                               f"configuration ({_region(key)}): its vault's "
                                               "region, type and size are not checked")]
    key_scope = key.bound()
    types = _options(evaluate(key.block.body.get("key_type"), key_scope))
    sizes = _options(evaluate(key.block.body.get("key_size"), key_scope))
    if not all(t in KEY_TYPES for t in types) or not all(s == KEY_SIZE for s in sizes):
        shown = "/".join(map(str, types)), "/".join(map(str, sizes))
        found.append(("openai-cmk", f"{key.block.address} is {shown[0]} {shown[1]}: Azure "
                                    "OpenAI takes RSA (or RSA-HSM) 2048 keys only"))
    vault = evaluate(key.block.body.get("key_vault_id"), key_scope)
    if not isinstance(vault, Resource):
        return [*found, ("openai-cmk-warning", f"{key.block.address}'s vault cannot be "
                                               "followed: its region is not checked")]
    purge = _options(evaluate(vault.block.body.get("purge_protection_enabled"), vault.bound()))
    if not all(p is True or p == "true" for p in purge):
        purge_shown = "/".join("not set (false)" if p is None else str(p) for p in purge)
        found.append(("openai-cmk", f"{vault.block.address} has purge_protection_enabled "
                                    f"{purge_shown}: Azure takes a customer-managed "
                                    "key only from a vault with soft delete and purge protection"))
    vault_region = _region(evaluate(vault.block.body.get("location"), vault.bound()))
    account_region = _region(evaluate(account.block.body.get("location"), account_scope))
    if vault_region != account_region:
        found.append(("openai-cmk", f"the key's vault is in {vault_region}, the account in "
                                    f"{account_region}: Azure OpenAI takes its key from a vault "
                                    "in its own region (give each region's account its own "
                                    "vault)"))
    return found
