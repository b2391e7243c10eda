"""Japan's own URLs: the postal-code look-up (JSON for jp_forms.js, and a form post for
browsers without JavaScript)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, request
from flask_babel import gettext as _

from .postal import lookup

bp = Blueprint("japan", __name__)


@bp.get("/jp/postal/<code>")
def postal_code(code: str) -> Response:
    """``{"postal_code": "100-0001", "prefecture": "東京都", "city": "千代田区", "town": "千代田"}``."""  # noqa: E501
    found = lookup(code[:16])
    if found is None:
        return Response(json.dumps({"error": "not_found"}), status=404,
                        mimetype="application/json")
    response = Response(json.dumps(found.to_json(), ensure_ascii=False),
                        mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.post("/pay/<session_id>/address-lookup")
def address_lookup(session_id: str) -> Any:
    """The 「住所を検索」 button without JavaScript: the whole form comes here (``formaction``),
    and the same page comes back with the address filled in. Nothing is paid."""
    from ...pay import _render_checkout, _safe_values, load_checkout

    checkout = load_checkout(session_id)
    values = _safe_values()
    found = lookup(values.get("postal_code", ""))
    errors: dict[str, str] = {}
    if found is None:
        errors["postal_code"] = _("We could not find this postal code. Please check it, or enter the address yourself.")  # noqa: E501
    else:
        values.update(postal_code=found.postal_code, prefecture=found.prefecture,
                      city=found.city, address_line1=values.get("address_line1") or found.town)
    return _render_checkout(checkout, method_id=request.form.get("method"), values=values,
                            field_errors=errors, status=200 if found else 422)
