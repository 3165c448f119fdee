"""Phone and e-mail normalisation and masking (docs/checksums.md "Phone numbers")."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.identifiers import mask_login_name, mask_phone, normalize_email, normalize_phone

mainland = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)


@given(mainland)
def test_mainland_numbers_normalise_to_e164_in_every_usual_form(number: str) -> None:
    expected = "+86" + number
    spaced = f"{number[:3]} {number[3:7]} {number[7:]}"
    dashed = f"{number[:3]}-{number[3:7]}-{number[7:]}"
    for form in (number, "+86" + number, "+86 " + spaced, dashed, "0086" + number):
        assert normalize_phone(form) == expected


@given(mainland)
def test_masked_phone_shows_first_three_and_last_four(number: str) -> None:
    assert mask_phone("+86" + number) == f"{number[:3]}****{number[-4:]}"


def test_non_mainland_numbers_are_refused() -> None:
    for bad in ("", "12345678901", "23800000000", "1380000000", "138000000000", "+1 415 555 0100", "abc"):
        assert normalize_phone(bad) is None


def test_email_domain_is_lower_cased_and_bad_addresses_refused() -> None:
    assert normalize_email(" Alice@Example.COM ") == "Alice@example.com"
    for bad in ("", "alice", "alice@", "@example.com", "a@b", "a b@example.com"):
        assert normalize_email(bad) is None


def test_login_names_are_masked_but_recognisable() -> None:
    assert mask_login_name("alice01") == "al***01"
    assert mask_login_name("alice@example.com") == "al***@example.com"
    assert mask_login_name("13800000000") == "138****0000"
