"""Project-level checks: docker-compose.yml and translations (the demo seed: tests/demo/)."""

import gettext
import json
from pathlib import Path

import jsonschema
import polib
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose_validator():
    schema = json.loads((ROOT / "tests/schemas/compose-spec.json").read_text())
    return jsonschema.Draft201909Validator(schema)


def test_docker_compose_is_valid_against_the_compose_specification():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())

    _compose_validator().validate(compose)
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(compose["services"])


def test_compose_schema_rejects_a_malformed_service():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    compose["services"]["web"]["restart_policy"] = "always"  # not a service key in the spec

    assert not _compose_validator().is_valid(compose)


def test_compose_app_services_share_one_environment():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    app_services = [compose["services"][name] for name in ("web", "worker", "beat")]

    environments = [service["environment"] for service in app_services]
    assert environments[0] == environments[1] == environments[2]
    assert environments[0]["DATABASE_URL"].startswith("postgres://")
    assert environments[0]["REDIS_URL"].startswith("redis://")
    assert "gunicorn" in " ".join(compose["services"]["web"]["command"])


def test_chinese_translation_is_complete_and_compiled():
    po = polib.pofile(str(ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"))
    compiled = gettext.GNUTranslations((ROOT / "locale/zh_Hans/LC_MESSAGES/django.mo").open("rb"))

    assert len(po) > 0
    assert [entry.msgid for entry in po.untranslated_entries() + po.fuzzy_entries()] == []
    stale = [
        e.msgid
        for e in po.translated_entries()
        if not e.msgid_plural
        and (compiled.pgettext(e.msgctxt, e.msgid) if e.msgctxt else compiled.gettext(e.msgid)) != e.msgstr
    ]
    assert stale == [], "run `make messages` to recompile the .mo file"


# makemessages extracts calls of these names only (xgettext's defaults and Django's keywords):
# `from django.utils.translation import gettext as _t` hides every `_t("…")` from the catalogue.
EXTRACTED_NAMES = {
    "_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy", "pgettext",
    "pgettext_lazy", "npgettext", "npgettext_lazy",
}  # fmt: skip
APPS = ("alliance", "assessment", "config", "core", "demo", "encounters", "finance", "members",
        "pharmacy", "referrals")  # fmt: skip


def test_translation_functions_keep_names_makemessages_extracts():
    import ast

    hidden = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
                    hidden += [
                        f"{path.relative_to(ROOT)}: {alias.name} as {alias.asname}"
                        for alias in node.names
                        if alias.asname and alias.asname not in EXTRACTED_NAMES
                    ]
    assert hidden == []
