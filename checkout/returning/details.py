"""What a signed-in shopper types, remembered for next time: names and kana, contact, the
name on a card, a 가상계좌 depositor, the konbini chain, card company and bank
(``REMEMBERED_FIELDS``), the session's address and the method used — learned from a payment
that was not refused, filled into the next checkout's forms, each deletable on the shopper's
page. Only for a shopper this browser knows, or who ticked "remember me" (then kept with the
code until it is confirmed: ``profiles``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..addresses import address_form_kind
from ..models import CheckoutSession, ShopperProfile
from ..phones import display_mobile

# Form fields worth not typing again, by the name every form gives them: names and kana and the
# contact of the Japanese forms, the name on a card, a 가상계좌 depositor, and choices — the
# konbini chain, the Korean card company, the bank. Never a card number, code or consent.
REMEMBERED_FIELDS = ("family_name", "given_name", "family_name_kana", "given_name_kana",
                     "email", "phone", "card_name", "depositor_name",
                     "konbini_store", "card_company", "deposit_bank")
MAX_ADDRESSES = 5
FIELD_MAX = 100


def details_from(checkout: CheckoutSession, method_id: str,
                 form: Mapping[str, str]) -> dict[str, Any]:
    """What this payment's form (already validated) adds to a profile: the fields above as
    typed, the address the session now holds, and the method chosen (a wallet, konbini …)."""
    fields = {key: " ".join(str(form.get(key, "")).split())[:FIELD_MAX]
              for key in REMEMBERED_FIELDS if str(form.get(key, "")).strip()}
    details: dict[str, Any] = {"fields": fields, "method": method_id}
    address = {key: value for key, value in (checkout.address or {}).items() if key != "type"}
    if address.get("line1"):
        details["addresses"] = [address]
    return details


def remember_details(profile: ShopperProfile, learned: Mapping[str, Any]) -> None:
    """Merge what a payment taught into the profile (the caller commits): newer fields win,
    an address already kept moves to the front, at most ``MAX_ADDRESSES``."""
    if not learned:
        return
    current = dict(profile.details or {})
    fields = {**current.get("fields", {}), **learned.get("fields", {})}
    addresses = list(learned.get("addresses", []))
    addresses += [a for a in current.get("addresses", []) if a not in addresses]
    current.update(fields=fields, addresses=addresses[:MAX_ADDRESSES])
    if learned.get("method"):
        current["method"] = learned["method"]
    profile.details = current  # a new dict: JSON columns see assignment, not mutation
    if not profile.name and fields.get("family_name"):
        profile.name = f"{fields['family_name']} {fields.get('given_name', '')}".strip()


def forget_detail(profile: ShopperProfile, key: str) -> None:
    """Delete one remembered field (``fields.<name>``), address (``address.<n>``) or the
    preferred method (``method``) — the shopper's page's delete buttons."""
    current = dict(profile.details or {})
    kind, _sep, name = key.partition(".")
    if kind == "fields":
        current["fields"] = {k: v for k, v in current.get("fields", {}).items() if k != name}
    elif kind == "address" and name.isdigit():
        current["addresses"] = [a for i, a in enumerate(current.get("addresses", []))
                                if i != int(name)]
    elif kind == "method":
        current.pop("method", None)
    profile.details = current


def preferred_method(profile: ShopperProfile | None) -> str | None:
    return (profile.details or {}).get("method") if profile is not None else None


def prefill(profile: ShopperProfile, checkout: CheckoutSession | None = None) -> dict[str, str]:
    """Form values a remembered shopper need not type again: the e-mail or mobile they are
    known by (konbini, Pay-easy, remember me), what they typed last time while signed in, the
    name a 가상계좌 deposit is made in, and the newest address of the form this checkout shows
    (unless this session already holds one)."""
    values: dict[str, str] = {"remember_contact": profile.known_as}
    if profile.email:
        values["email"] = profile.email
    if profile.phone:
        values["phone"] = display_mobile(profile.phone).replace("-", "")
    if profile.name:
        values["depositor_name"] = profile.name
    details = profile.details or {}
    values.update(details.get("fields", {}))
    if checkout is not None and not checkout.address:
        kind = address_form_kind(checkout)
        for address in details.get("addresses", []):
            if kind and {"jp": "JP", "kr": "KR"}.get(kind, address.get("country")) == \
                    address.get("country"):
                values.update(_address_values(address, kind))
                break
    return values


def shown_address(address: Mapping[str, Any]) -> str:
    """One line, as the address's country writes it: 〒100-0001 東京都千代田区千代田1-1,
    (04524) 서울특별시 중구 세종대로 110, else line 1, line 2, city, region postal code, country."""
    line2 = address.get("line2") or ""
    if address.get("country") == "JP":
        postal = str(address.get("postal_code") or "")
        if len(postal) == 7 and postal.isdigit():
            postal = f"{postal[:3]}-{postal[3:]}"
        place = "".join(str(address.get(k) or "") for k in ("state", "city", "line1"))
        return " ".join(part for part in (f"〒{postal}", place, line2) if part)
    if address.get("country") == "KR":
        return " ".join(part for part in (f"({address.get('postal_code') or ''})",
                                          address.get("line1") or "", line2) if part)
    region = " ".join(str(address.get(k) or "") for k in ("state", "postal_code")).strip()
    return ", ".join(str(part) for part in (address.get("line1"), line2, address.get("city"),
                                            region, address.get("country")) if part)


def _address_values(address: Mapping[str, Any], kind: str) -> dict[str, str]:
    values = {"postal_code": address.get("postal_code") or "", "city": address.get("city") or "",
              "address_line1": address.get("line1") or "",
              "address_line2": address.get("line2") or "",
              "country": address.get("country") or "", "state": address.get("state") or ""}
    if kind == "jp":
        values["prefecture"] = values["state"]
    return values
