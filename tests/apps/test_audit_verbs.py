"""Every action an app writes to the audit log is named in words on the audit page, in Japanese with
its English: an action without one showed its code ("training.attempt.submit") twice on a Japanese page."""

from __future__ import annotations

import ast
from pathlib import Path

from django.utils import translation

import mamori.apps
from mamori.apps.core.audit_display import VERBS

APPS = Path(mamori.apps.__file__).parent


def _strings(node: ast.expr, constants: dict[str, ast.expr]) -> list[str]:
    """The action strings an expression can be: literals, module constants, `A + ".x"`, `a if c else b`;
    an f-string's literal end ("...report.{kind}" gives nothing, its kinds are listed by the test)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name) and node.id in constants:
        return _strings(constants[node.id], constants)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [a + b for a in _strings(node.left, constants) for b in _strings(node.right, constants)]
    if isinstance(node, ast.IfExp):
        return _strings(node.body, constants) + _strings(node.orelse, constants)
    return []


def _written_actions() -> dict[str, str]:
    """{action: file} of every call with a dotted `action=` in the apps: `audit_record` and the helpers
    that pass it on (evaluation's `_audit_change`); argparse's `action="store_true"` has no dot."""
    found = {}
    for source in APPS.rglob("*.py"):
        if "migrations" in source.parts:
            continue
        tree = ast.parse(source.read_text())
        constants = {
            t.id: n.value
            for n in tree.body
            if isinstance(n, ast.Assign)
            for t in n.targets
            if isinstance(t, ast.Name)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "action":
                        for action in _strings(keyword.value, constants):
                            if "." in action:
                                found[action] = str(source.relative_to(APPS))
    return found


def test_the_scan_finds_the_actions_of_every_app():
    actions = _written_actions()
    assert {
        "training.attempt.submit",
        "training.assignment.remind",  # 「督促メールを送信」 on the overdue list
        "devices.eos_alert.send.try",
        "backups.system.activate",
    } <= set(actions)
    assert {a.split(".")[0] for a in actions} >= {"training", "devices", "awareness", "backups", "incidents"}


def test_every_written_action_has_a_verb_in_japanese_and_english():
    # incidents.report.{report}: the two statutory reports
    actions = [*_written_actions(), "incidents.report.preliminary", "incidents.report.final"]
    missing = sorted(a for a in actions if a.rsplit(".", 1)[-1] not in VERBS)
    assert missing == []
    for verb in VERBS.values():
        with translation.override("ja"):
            ja = str(verb)
        with translation.override("en"):
            assert str(verb) != ja and str(verb).isascii(), ja
