"""REG-7 password strength (zxcvbn): what is judged, and that one check stays cheap whatever the input."""

from __future__ import annotations

import asyncio
import time

import pytest

from bench.passwords import USER_INPUTS, hostile
from services.accounts.strength import MIN_SCORE, estimate, judge, judged_part


def test_reg_7_strength_judges_a_prefix_shorter_when_it_is_full_of_l33t_characters() -> None:
    # Given passwords of 128 characters: plain letters, and every character zxcvbn reads as a letter
    plain, l33t = hostile()["keyboard walk"], hostile()["every l33t character"]
    # Then 32 characters of the plain one are judged, 16 of the l33t one
    assert judged_part(plain) == plain[:32]
    assert judged_part(l33t) == l33t[:16]
    # And a password with at most 4 different l33t characters is judged up to 32 characters
    assert judged_part("Blue-Kettle-42!Blue-Kettle-42!xyz") == "Blue-Kettle-42!Blue-Kettle-42!xy"


def test_reg_7_a_weak_prefix_is_not_saved_by_a_strong_tail() -> None:
    # Given a password whose first 32 characters are one letter repeated, and a strong ending
    password = "a" * 32 + "Gq7#vLp2x-Blue-Kettle-42!"
    # Then it is judged on its prefix, and refused
    assert estimate(password, []).score < MIN_SCORE
    assert estimate(password[32:], []).score >= MIN_SCORE


@pytest.mark.parametrize("name", list(hostile()))
def test_reg_7_one_check_of_a_hostile_128_character_password_stays_cheap(name: str) -> None:
    # Given a hostile 128-character password (zxcvbn on the whole of the worst one takes seconds)
    password = hostile()[name]
    assert len(password) == 128
    # When it is judged as the service judges it
    started = time.process_time()
    estimate(password, USER_INPUTS)
    # Then it took a small fraction of a second of CPU (measured worst: about 15 ms)
    assert time.process_time() - started < 0.25


async def test_reg_7_simultaneous_checks_on_the_strength_thread_each_use_their_own_user_data() -> None:
    # Given a password that is weak only for the user whose name and phone it is made of
    password = "kettlewood13700000001"
    owner, stranger = ["kettlewood", "13700000001"], ["bob0001", "13900000002"]
    # When 20 checks run at once, alternating the owner's data and a stranger's
    results = await asyncio.gather(*(judge(password, owner if i % 2 == 0 else stranger) for i in range(20)))
    # Then each was judged with its own data (zxcvbn keeps them in module state during a call)
    assert [r.acceptable for r in results] == [False, True] * 10
    assert results[0] == estimate(password, owner)
