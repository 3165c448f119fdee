"""One error model for the whole API (DESIGN: GraphQL conventions): every payload's `errors` is
`[UserError!]!`, every domain code has its described `ErrorCode` value, and every mutation says
which codes it returns."""

from __future__ import annotations

import importlib
import pkgutil
from enum import Enum
from pathlib import Path

import graphql
import pytest

import services
from schema import errors as schema_errors
from schema.error_returns import REST_RETURNS, RETURNS
from schema.errors import ErrorCode, UserError, input_path, returned_by, user_errors
from services.accounts.errors import AccountErrorCode
from services.errors import InputErrors, Problems, ServiceError
from services.verification.errors import VerificationErrorCode
from settings import Settings
from tests.logcapture import configured_logs

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = graphql.build_schema((ROOT / "schema.graphql").read_text())
# Domains whose codes stay inside the back office (reviewer sign-in and decisions).
BACK_OFFICE_ONLY = {"services.review.errors"}
# Codes answered to a provider's callback (the sandbox face page, the sandbox bank), never by the API.
PROVIDER_SIDE = {"CallbackErrorCode"}


def _domain_code_enums() -> list[type[Enum]]:
    found = []
    for module in pkgutil.walk_packages(services.__path__, "services."):
        if not module.name.endswith(".errors") or module.name in BACK_OFFICE_ONLY:
            continue
        loaded = importlib.import_module(module.name)
        found += [
            v
            for v in vars(loaded).values()
            if isinstance(v, type)
            and issubclass(v, Enum)
            and v.__name__.endswith("ErrorCode")
            and v.__name__ not in PROVIDER_SIDE
        ]
    return found


def test_every_domain_code_has_its_error_code_value() -> None:
    enums = _domain_code_enums()
    assert len(enums) >= 9
    missing = sorted(f"{e.__name__}.{m.name}" for e in enums for m in e if m.name not in ErrorCode.__members__)
    assert missing == []


def test_every_error_code_is_returned_by_something_and_its_description_says_by_what() -> None:
    enum = SCHEMA.type_map["ErrorCode"]
    assert isinstance(enum, graphql.GraphQLEnumType)
    assert set(enum.values) == set(ErrorCode.__members__)
    for name, value in enum.values.items():
        where = returned_by(ErrorCode[name])
        assert where, name
        assert value.description is not None
        assert value.description.endswith("Returned by " + ", ".join(f"`{w}`" for w in where) + "."), name


def test_returns_names_exactly_the_schemas_mutations() -> None:
    mutation = SCHEMA.mutation_type
    assert mutation is not None
    assert set(RETURNS) == set(mutation.fields)
    assert set(REST_RETURNS) == {
        "POST /uploads",
        "GET /uploads/{id}",
        "GET /subject-changes/{id}/form",
        "GET /exports/{id}",
    }


def test_every_payload_has_non_null_errors_of_the_one_user_error_type() -> None:
    mutation = SCHEMA.mutation_type
    assert mutation is not None
    for name, field in mutation.fields.items():
        payload = graphql.get_named_type(field.type)
        assert isinstance(payload, graphql.GraphQLObjectType)
        assert str(payload.fields["errors"].type) == "[UserError!]!", name
    user_error = SCHEMA.type_map["UserError"]
    assert isinstance(user_error, graphql.GraphQLObjectType)
    assert [i.name for i in user_error.interfaces] == ["Error"]
    error = SCHEMA.type_map["Error"]
    assert isinstance(error, graphql.GraphQLInterfaceType)
    assert {n: str(f.type) for n, f in error.fields.items()} == {
        "message": "String!",
        "code": "ErrorCode!",
        "path": "[String!]",
    }
    assert {n: str(f.type) for n, f in user_error.fields.items() if n not in error.fields} == {
        "retryAfter": "Int",
        "attemptsRemaining": "Int",
    }
    # One error type in the whole schema: a client needs one fragment.
    implementing = [
        t.name for t in SCHEMA.type_map.values() if isinstance(t, graphql.GraphQLObjectType) and error in t.interfaces
    ]
    assert implementing == ["UserError"]


def test_the_path_starts_at_the_argument_and_goes_down_the_input() -> None:
    assert input_path(None) is None
    assert input_path("username") == ["input", "username"]
    assert input_path("organisation.name") == ["input", "organisation", "name"]
    assert input_path("agreements.1") == ["input", "agreements", "1"]


class _Info:
    field_name = "accountRegister"


def test_several_input_problems_come_back_together_in_order() -> None:
    problems = Problems()
    assert problems.refusal() is None
    problems.add(AccountErrorCode.INVALID_USERNAME, "Bad name.", "username")
    problems.check(None)
    problems.check(ServiceError(AccountErrorCode.PASSWORD_TOO_SHORT, "Short.", "password"))
    refusal = problems.refusal()
    assert isinstance(refusal, InputErrors)
    errors = user_errors(_Info(), refusal)
    assert [(e.code, e.path, e.message) for e in errors] == [
        (ErrorCode.INVALID_USERNAME, ["input", "username"], "Bad name."),
        (ErrorCode.PASSWORD_TOO_SHORT, ["input", "password"], "Short."),
    ]
    single = Problems()
    single.add(AccountErrorCode.INVALID_PHONE, "Bad phone.", "phone")
    assert type(single.refusal()) is ServiceError
    with pytest.raises(ValueError, match="two problems or more"):
        InputErrors([ServiceError(AccountErrorCode.INVALID_PHONE, "x")])


def test_a_code_the_mutation_does_not_declare_is_reported_and_logged_as_a_bug(settings: Settings) -> None:
    undeclared = ServiceError(VerificationErrorCode.USCC_INVALID, "Not a USCC.", "uscc", retry_after=3)
    with configured_logs(settings) as logged:
        [error] = user_errors(_Info(), undeclared)
    assert {("accountRegister", "USCC_INVALID")} == schema_errors.UNDECLARED
    schema_errors.UNDECLARED.clear()
    assert isinstance(error, UserError)
    assert (error.code, error.path, error.retry_after) == (ErrorCode.USCC_INVALID, ["input", "uscc"], 3)
    [line] = [line for line in logged.lines() if line.get("event") == "undeclared_error_code"]
    assert (line["level"], line["mutation"], line["code"]) == ("error", "accountRegister", "USCC_INVALID")
