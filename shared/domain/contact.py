"""Phone numbers for SMS: Polish mobiles only (landline callers are reached by the call centre)."""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType


class InvalidPhone(ValueError):
    pass


def polish_mobile(raw: str) -> str:
    """The number in E.164 (+48XXXXXXXXX); raises InvalidPhone unless it is a Polish mobile."""
    try:
        number = phonenumbers.parse(raw, "PL")
    except phonenumbers.NumberParseException as error:
        raise InvalidPhone("not a phone number") from error
    if number.country_code != 48 or not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a valid Polish number")
    if phonenumbers.number_type(number) not in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise InvalidPhone("not a mobile number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
