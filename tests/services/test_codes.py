"""CODE-3: which budget each purpose draws on, checked against who can ask for it."""

from __future__ import annotations

from services.codes.purposes import ADDRESS_CAPPED, BUDGETS, NETWORK_CAPPED, CodeBudget, CodePurpose
from services.codes.requests import (
    ANONYMOUS_PHONE,
    BOUND_PHONE,
    OWN_FLOW,
    SIGNED_IN_EMAIL,
    SIGNED_IN_PHONE,
    CodeSendPurpose,
)


def test_code_3_every_purpose_draws_on_the_budget_of_those_who_can_trigger_it() -> None:
    # Every purpose has a budget
    assert set(BUDGETS) == set(CodePurpose)
    by_budget = {b: {p for p, pb in BUDGETS.items() if pb is b} for b in CodeBudget}
    # Anyone may ask verificationCodeSend for these, for any phone: registration and SMS sign-in, each
    # with a budget of its own, so registration sends cannot keep an owner from signing in
    assert by_budget[CodeBudget.PUBLIC] | by_budget[CodeBudget.LOGIN] == ANONYMOUS_PHONE
    assert (by_budget[CodeBudget.PUBLIC], by_budget[CodeBudget.LOGIN]) == (
        {CodePurpose.REGISTRATION},
        {CodePurpose.LOGIN},
    )
    # Anyone passing the bot check starts these (REC-1, REC-2), each with a budget of its own, so account
    # lookups cannot use up the owner's reset codes
    assert (by_budget[CodeBudget.RESET], by_budget[CodeBudget.RECOVERY]) == (
        {CodePurpose.PASSWORD_RESET},
        {CodePurpose.ACCOUNT_REVEAL},
    )
    # A signed-in account names these destinations itself
    assert by_budget[CodeBudget.SIGNED_IN] == SIGNED_IN_PHONE | SIGNED_IN_EMAIL | {CodePurpose.STUDENT_EMAIL}
    # Only the bound phone of the asking account, with its session or its password (AUTH-6)
    assert by_budget[CodeBudget.OWNER] == BOUND_PHONE | {CodePurpose.LOGIN_CHALLENGE}
    # And only those skip the per-address caps
    assert set(CodePurpose) - ADDRESS_CAPPED == by_budget[CodeBudget.OWNER]
    # The budgets the owner needs but anyone can spend give one client network only a share
    assert {CodeBudget.LOGIN, CodeBudget.RESET} == NETWORK_CAPPED


def test_code_2_verification_code_send_takes_every_purpose_but_those_its_own_mutation_sends() -> None:
    # The input enum of verificationCodeSend holds exactly the purposes request_code sends
    assert {p.value for p in CodeSendPurpose} == {p.value for p in CodePurpose} - {p.value for p in OWN_FLOW}
    assert {p.purpose for p in CodeSendPurpose} == ANONYMOUS_PHONE | SIGNED_IN_PHONE | SIGNED_IN_EMAIL | BOUND_PHONE
    # And the others each name the mutation that sends them
    assert set(OWN_FLOW.values()) == {
        "passwordResetStart",
        "accountRecoveryLookup",
        "studentStatusApply",
        "loginChallengeCodeSend",
    }
