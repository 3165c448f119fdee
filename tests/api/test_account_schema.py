"""The account, code and recovery mutations as a generated client sees them (issue 12 items 2 and 3): one
`input` each, inputs that say what they need at the type level, and payloads whose one result is null
exactly when `errors` is not empty, with its own fields non-null where always present."""

from __future__ import annotations

from pathlib import Path

import graphql
import pytest

from schema.error_returns import RETURNS

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = graphql.build_schema((ROOT / "schema.graphql").read_text())

# mutation: (input fields, payload fields); nested types below.
MUTATIONS = {
    "verificationCodeSend": (
        {"purpose": "CodeSendPurpose!", "phone": "String", "email": "String", "changeId": "ID"},
        {"sentCode": "SentCode"},
    ),
    "accountRegister": (
        {
            "username": "String!",
            "password": "String!",
            "phone": "String!",
            "code": "String!",
            "agreements": "[AgreementAcceptanceInput!]!",
        },
        {"account": "RegisteredAccount"},
    ),
    "accountActivate": (
        {"agreements": "[AgreementAcceptanceInput!]!", "profile": "AccountProfileInput"},
        {"account": "Account"},
    ),
    "accountProfileUpdate": (
        {"contactName": "String", "companyName": "String", "industry": "String", "address": "String"},
        {"account": "Account"},
    ),
    "accountIdleTimeoutSet": ({"minutes": "Int!"}, {"account": "Account"}),
    "accountUsernameSet": ({"username": "String!"}, {"account": "Account"}),
    # MFA-2 / MFA-3: operation protection may be off, so the grant is optional here...
    "accountPasswordChange": (
        {"currentPassword": "String", "newPassword": "String!", "stepUpToken": "String"},
        {"account": "Account", "endedSessionCount": "Int"},
    ),
    # ... and required for a phone change whatever the settings (PROF-2)
    "accountPhoneChange": (
        {"stepUpToken": "String!", "newPhone": "String!", "newPhoneCode": "String!"},
        {"account": "Account"},
    ),
    "accountEmailBind": (
        {"email": "String!", "code": "String!", "stepUpToken": "String"},
        {"account": "Account"},
    ),
    "passwordResetStart": ({"loginName": "String!", "botToken": "String!"}, {"passwordReset": "PasswordReset"}),
    # Signed out: success is `errors` being empty, and nothing else comes back
    "passwordResetComplete": ({"ticket": "String!", "code": "String!", "newPassword": "String!"}, {}),
    "accountRecoveryLookup": (
        {"botToken": "String!", "by": "AccountRecoveryCriteriaInput!"},
        {"lookup": "AccountRecoveryLookup"},
    ),
    "accountRecoveryReveal": ({"ticket": "String!", "code": "String!"}, {"accounts": "[RevealedAccount!]"}),
}

NESTED = {
    "SentCode": {
        "purpose": "CodeSendPurpose!",
        "sentTo": "String!",
        "expiresAt": "DateTime!",
        "resendAvailableAt": "DateTime!",
        "dailyRemaining": "Int!",
    },
    "RegisteredAccount": {"accountId": "String!", "username": "String!"},
    "PasswordReset": {
        "ticket": "String!",
        "phoneMasked": "String!",
        "expiresAt": "DateTime!",
        "codeExpiresAt": "DateTime!",
    },
    "AccountRecoveryLookup": {"accounts": "[RecoveredAccount!]!", "reveal": "AccountRevealTicket"},
    "AccountRevealTicket": {"ticket": "String!", "phoneMasked": "String!", "codeExpiresAt": "DateTime!"},
    # REC-2: login names only, no bound phone or e-mail beside them
    "RecoveredAccount": {"kind": "AccountKind!", "loginNamesMasked": "[String!]!"},
    "RevealedAccount": {"kind": "AccountKind!", "loginNames": "[String!]!"},
    "AccountRecoveryCriteriaInput": {
        "phone": "String",
        "accountId": "String",
        "identity": "AccountRecoveryIdentityInput",
    },
    "AccountRecoveryIdentityInput": {"name": "String!", "idNumber": "String!"},
    "AccountProfileInput": {
        "contactName": "String",
        "companyName": "String",
        "industry": "String",
        "address": "String",
    },
    "AgreementAcceptanceInput": {"kind": "AgreementKind!", "version": "String!"},
}


def _fields(type_name: str) -> dict[str, str]:
    found = SCHEMA.type_map[type_name]
    assert isinstance(found, graphql.GraphQLObjectType | graphql.GraphQLInputObjectType), type_name
    return {name: str(field.type) for name, field in found.fields.items()}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_each_mutation_takes_one_input_of_its_own_and_answers_one_result_or_errors(mutation: str) -> None:
    assert SCHEMA.mutation_type is not None
    field = SCHEMA.mutation_type.fields[mutation]
    input_fields, payload_fields = MUTATIONS[mutation]
    name = mutation[0].upper() + mutation[1:]
    # One argument, `input`, of the mutation's own input type
    assert {n: str(a.type) for n, a in field.args.items()} == {"input": f"{name}Input!"}
    assert _fields(f"{name}Input") == input_fields
    # Its own payload: at most one result (two where the account and a count of ended sessions come
    # together), nullable because it is null exactly when `errors` is not empty, and the errors
    assert str(field.type) == f"{name}Payload!"
    assert _fields(f"{name}Payload") == {**payload_fields, "errors": "[UserError!]!"}
    assert not any(t.endswith("!") for t in payload_fields.values())


@pytest.mark.parametrize("type_name", sorted(NESTED))
def test_results_and_nested_inputs_are_non_null_where_always_present(type_name: str) -> None:
    assert _fields(type_name) == NESTED[type_name]


def test_rec_2_the_lookup_criteria_are_exactly_one_of_at_the_type_level() -> None:
    criteria = SCHEMA.type_map["AccountRecoveryCriteriaInput"]
    assert isinstance(criteria, graphql.GraphQLInputObjectType)
    assert criteria.is_one_of
    # So the refusal for no criterion, or several, is gone from the error codes
    codes = SCHEMA.type_map["ErrorCode"]
    assert isinstance(codes, graphql.GraphQLEnumType)
    assert "LOOKUP_CRITERIA_REQUIRED" not in codes.values


def test_code_2_the_send_purposes_are_only_those_verification_code_send_takes() -> None:
    purposes = SCHEMA.type_map["CodeSendPurpose"]
    assert isinstance(purposes, graphql.GraphQLEnumType)
    assert set(purposes.values) == {
        "REGISTRATION",
        "LOGIN",
        "PHONE_CHANGE_NEW",
        "EMAIL_BIND",
        "OPERATION",
        "BANK_CARD",
        "REMITTANCE_ACCOUNT",
    }
    assert all(v.description for v in purposes.values.values())
    # The purposes sent by their own mutations are gone from the API, and so is their refusal
    assert "CodePurpose" not in SCHEMA.type_map
    assert "PURPOSE_NOT_ALLOWED" not in RETURNS["verificationCodeSend"]


def test_prof_2_a_phone_change_cannot_answer_that_the_grant_is_missing() -> None:
    # The grant is a required input (PROF-2), so the refusal for a missing one is type-level
    assert "STEP_UP_REQUIRED" not in RETURNS["accountPhoneChange"]
    assert {"STEP_UP_INVALID", "STEP_UP_FACTOR_NOT_ALLOWED"} <= RETURNS["accountPhoneChange"]
    # While operation protection decides for the password and the e-mail (MFA-3)
    assert "STEP_UP_REQUIRED" in RETURNS["accountPasswordChange"]
    assert "STEP_UP_REQUIRED" in RETURNS["accountEmailBind"]
