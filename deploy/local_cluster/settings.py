"""Where `make scale` keeps its state and the settings its parts share."""

from __future__ import annotations

from runtime.paths import ROOT, VAR

ENDPOINTS = ROOT / "endpoints.scale.yml"
DEFAULT_DIR = VAR / "scale"
DB_NAME = DB_USER = "jiebei"
LOCK_LIFETIME = 45  # seconds; see endpoints.scale.yml


def fill_template(template: str, **values: object) -> str:
    """Replaces each {{name}} of a deploy/*.template; every field must be given."""
    for key, value in values.items():
        template = template.replace("{{" + key + "}}", str(value))
    assert "{{" not in template, "unfilled field in template"
    return template
