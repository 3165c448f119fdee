"""The types of the sign-in, session and second-factor mutations (issue 12): one `input` each, required
fields non-null, one result per payload whose own fields are non-null, sign-in as a union.

RULES: AUTH-2 AUTH-4 AUTH-6 MFA-1 MFA-2 MFA-4
"""

from __future__ import annotations

from pathlib import Path

import graphql
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = graphql.build_schema((ROOT / "schema.graphql").read_text())
ERRORS = {"errors": "[UserError!]!"}
ECHO = {"clientMutationId": "String"}

# mutation: (its input's fields, its payload type)
MUTATIONS: dict[str, tuple[dict[str, str], str]] = {
    "sessionCreateByPassword": ({"loginName": "String!", "password": "String!"}, "SessionCreatePayload"),
    "sessionCreateBySmsCode": ({"phone": "String!", "code": "String!"}, "SessionCreatePayload"),
    "sessionCreateByQrTicket": ({"token": "String!"}, "SessionCreatePayload"),
    "sessionCreateByChallenge": (
        {"token": "String!", "factor": "SecondFactor!", "code": "String!"},
        "SessionCreatePayload",
    ),
    "qrLoginTicketCreate": (ECHO, "QrLoginTicketCreatePayload"),
    "qrLoginTicketConfirm": ({"code": "String!"}, "QrLoginTicketConfirmPayload"),
    "sessionDelete": (ECHO, "SessionDeletePayload"),
    "sessionRevoke": ({"id": "ID!"}, "SessionRevokePayload"),
    "operationChallengeVerify": ({"factor": "SecondFactor!", "code": "String!"}, "OperationChallengeVerifyPayload"),
    "loginChallengeCodeSend": ({"token": "String!"}, "LoginChallengeCodeSendPayload"),
    "mfaDeviceBindingStart": (ECHO, "MfaDeviceBindingStartPayload"),
    "mfaDeviceBind": ({"firstCode": "String!", "secondCode": "String!"}, "MfaRecoveryCodesPayload"),
    "mfaDeviceUnbind": ({"code": "String!", "stepUpToken": "String"}, "MfaAccountPayload"),
    "securityProtectionsSet": (
        {
            "loginProtection": "ProtectionInput!",
            "operationProtection": "ProtectionInput!",
            "stepUpToken": "String",
        },
        "MfaAccountPayload",
    ),
    "mfaRecoveryCodesRegenerate": ({"stepUpToken": "String"}, "MfaRecoveryCodesPayload"),
}
# Each payload: its result (null exactly when `errors` is not empty) and `errors`; nothing else.
PAYLOADS: dict[str, dict[str, str]] = {
    "SessionCreatePayload": {"result": "SignInResult", **ERRORS},
    "QrLoginTicketCreatePayload": {"ticket": "QrLoginTicket", **ECHO, **ERRORS},
    "QrLoginTicketConfirmPayload": {"ticket": "QrLoginTicketState", **ERRORS},
    "SessionDeletePayload": {**ECHO, **ERRORS},
    "SessionRevokePayload": {"account": "Account", **ERRORS},
    "OperationChallengeVerifyPayload": {"stepUpGrant": "StepUpGrant", **ERRORS},
    "LoginChallengeCodeSendPayload": {"sentCode": "LoginChallengeSentCode", **ERRORS},
    "MfaDeviceBindingStartPayload": {"binding": "MfaDeviceBinding", **ECHO, **ERRORS},
    "MfaRecoveryCodesPayload": {"recoveryCodes": "[String!]", "account": "Account", **ERRORS},
    "MfaAccountPayload": {"account": "Account", **ERRORS},
}
# The results: every field always present.
RESULTS: dict[str, dict[str, str]] = {
    "SignedIn": {"token": "String!", "session": "Session!", "account": "Account!", "accountCreated": "Boolean!"},
    "LoginChallenge": {
        "token": "String!",
        "factors": "[SecondFactor!]!",
        "phoneMasked": "String!",
        "expiresAt": "DateTime!",
        "attemptsRemaining": "Int!",
    },
    "QrLoginTicket": {"code": "String!", "token": "String!", "expiresAt": "DateTime!"},
    "QrLoginTicketState": {"status": "QrLoginTicketStatus!", "expiresAt": "DateTime!"},
    "StepUpGrant": {"token": "String!", "factor": "SecondFactor!", "expiresAt": "DateTime!"},
    "LoginChallengeSentCode": {"sentTo": "String!", "expiresAt": "DateTime!", "resendAvailableAt": "DateTime!"},
    "MfaDeviceBinding": {"secret": "String!", "otpauthUri": "String!", "qrCodeSvg": "String!"},
    "ProtectionInput": {"sms": "Boolean!", "totp": "Boolean!"},
    "Protection": {"enabled": "Boolean!", "factors": "[ProtectionFactor!]!"},
}


def _fields(type_name: str) -> dict[str, str]:
    named = SCHEMA.type_map[type_name]
    assert isinstance(named, graphql.GraphQLObjectType | graphql.GraphQLInputObjectType), type_name
    return {name: str(field.type) for name, field in named.fields.items()}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_each_mutation_takes_one_input_with_required_fields_non_null(mutation: str) -> None:
    assert SCHEMA.mutation_type is not None
    field = SCHEMA.mutation_type.fields[mutation]
    input_type = mutation[0].upper() + mutation[1:] + "Input"
    assert {name: str(arg.type) for name, arg in field.args.items()} == {"input": f"{input_type}!"}
    expected_input, payload = MUTATIONS[mutation]
    assert _fields(input_type) == expected_input
    assert str(field.type) == f"{payload}!"


@pytest.mark.parametrize("mutation", ["qrLoginTicketCreate", "sessionDelete", "mfaDeviceBindingStart"])
def test_auth_2_auth_4_mfa_4_an_input_with_nothing_to_send_may_be_left_out(mutation: str) -> None:
    assert SCHEMA.mutation_type is not None
    argument = SCHEMA.mutation_type.fields[mutation].args["input"]
    assert argument.ast_node is not None
    assert argument.ast_node.default_value is not None
    assert graphql.value_from_ast(argument.ast_node.default_value, argument.type) == {}
    assert "clientMutationId" in _fields(MUTATIONS[mutation][1])


@pytest.mark.parametrize("payload", PAYLOADS)
def test_each_payload_has_one_result_and_its_errors(payload: str) -> None:
    assert _fields(payload) == PAYLOADS[payload]


@pytest.mark.parametrize("result", RESULTS)
def test_each_result_has_its_fields_non_null(result: str) -> None:
    assert _fields(result) == RESULTS[result]


def test_auth_6_sign_in_answers_a_session_or_a_login_challenge_as_a_described_union() -> None:
    union = SCHEMA.type_map["SignInResult"]
    assert isinstance(union, graphql.GraphQLUnionType)
    assert [t.name for t in union.types] == ["SignedIn", "LoginChallenge"]
    assert union.description is not None
    assert "__typename" in union.description
    # Nothing else in the schema still answers a session and a challenge side by side
    assert "challenge" not in _fields("SessionCreatePayload")


def test_mfa_1_mfa_2_factor_enums_hold_only_what_their_fields_may_take() -> None:
    second = SCHEMA.type_map["SecondFactor"]
    protection = SCHEMA.type_map["ProtectionFactor"]
    assert isinstance(second, graphql.GraphQLEnumType)
    assert isinstance(protection, graphql.GraphQLEnumType)
    # A second factor passed at a step-up or a login challenge may be a recovery code ...
    assert list(second.values) == ["SMS", "TOTP", "RECOVERY_CODE"]
    # ... but a protection is switched on with SMS and/or TOTP only (recovery codes pass where TOTP is on)
    assert list(protection.values) == ["SMS", "TOTP"]
    assert all(value.description for value in [*second.values.values(), *protection.values.values()])
