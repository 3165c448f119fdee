"""Global IDs and cursors are parsed strictly, in one place (schema/types/common.py).

An ID this API never gave out is, in a mutation input, that mutation's NOT_FOUND, the same answer as an
unknown ID or another account's; in a query argument, a top-level BAD_USER_INPUT error on that field
only. Never a 500, never a traceback. A request body that is not JSON text is a 400."""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import replace

import httpx
import pytest

from app import create_app
from schema.types.common import BadUserInput, decode_cursor, encode_cursor, node_id, parse_global_id
from tests.helpers import gql, mutate, registered_and_signed_in, sign_in


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def b64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


# IDs of the Session type that this API never gives out.
MALFORMED = {
    "empty": "",
    "not base64": "!!!",
    "base64 with junk": b64("Session:1") + "!",
    "unpadded": b64("Session:12").rstrip("="),
    "beyond 64 bits": b64("Session:" + "9" * 30),
    "2^63": b64("Session:9223372036854775808"),
    "full-width digits": b64("Session:１２３"),
    "zero": b64("Session:0"),
    "leading zero": b64("Session:01"),
    "negative": b64("Session:-1"),
    "blank": b64("Session: 1"),
    "NUL": "U2Vz\x00c2lvbjox",
    "interface type": b64("Verification:1"),
    "unknown type": b64("Nope:1"),
    "no type": b64("1"),
}


def test_a_global_id_is_base64_of_a_type_and_a_row_id_in_64_bits() -> None:
    assert parse_global_id(b64("Session:42")) == ("Session", 42)
    assert parse_global_id(b64("Session:9223372036854775807")) == ("Session", 2**63 - 1)
    assert node_id(b64("Session:42"), "Session") == 42
    assert node_id(b64("Session:42"), "Appeal") is None
    for name, text in MALFORMED.items():
        if name not in ("interface type", "unknown type"):  # well-formed: whether the type is a Node is for `node`
            assert parse_global_id(text) is None, name


def test_a_cursor_is_read_back_only_as_written_for_its_own_list() -> None:
    assert decode_cursor("Session", encode_cursor("Session", 7)) == 7
    assert decode_cursor("Session", None) is None
    unpadded = b64url("Session:17").rstrip("=")
    for text in (encode_cursor("Appeal", 7), b64url("Session:" + "9" * 30), b64url("Session:１"), "%%", unpadded):
        with pytest.raises(BadUserInput, match=r"`after` is not a cursor of this list\.") as raised:
            decode_cursor("Session", text)
        assert raised.value.extensions == {"code": "BAD_USER_INPUT"}


async def _session_id(client: httpx.AsyncClient, token: str) -> str:
    data = await gql(client, "{ viewer { sessions(first: 1) { edges { node { id } } } } }", token=token)
    return str(data["viewer"]["sessions"]["edges"][0]["node"]["id"])


@pytest.mark.parametrize("malformed", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_id_in_a_mutation_is_answered_like_another_accounts_id(client, malformed) -> None:
    # Given alice signed in, and bob's session (an ID alice may not use)
    alice = await registered_and_signed_in(client)
    bob = await registered_and_signed_in(client, "bob0001", "13700000002")
    others = await mutate(client, "sessionRevoke", {"id": await _session_id(client, bob)}, "account { id }", alice)
    # When alice revokes a session by an ID this API never gave out
    answer = await mutate(client, "sessionRevoke", {"id": malformed}, "account { id }", alice)
    # Then the payload says SESSION_NOT_FOUND exactly as for bob's session, and both sessions live on
    assert (
        answer
        == others
        == {
            "account": None,
            "errors": [
                {
                    "path": ["input", "id"],
                    "message": answer["errors"][0]["message"],
                    "code": "SESSION_NOT_FOUND",
                    "retryAfter": None,
                    "attemptsRemaining": None,
                }
            ],
        }
    )
    for token in (alice, bob):
        assert (await gql(client, "{ viewer { id } }", token=token))["viewer"] is not None


@pytest.mark.parametrize(
    ("mutation", "fields", "type_name"),
    [
        ("appealAnswer", {"materials": [{"role": "PAYMENT_PROOF", "uploadId": b64("UploadedDocument:1")}]}, "Appeal"),
        ("enterpriseVerificationAmountConfirm", {"amount": "0.37"}, "EnterpriseVerification"),
        (
            "enterpriseVerificationMaterialAnswer",
            {"authorisationLetterUploadId": b64("UploadedDocument:1")},
            "EnterpriseVerification",
        ),
    ],
)
async def test_a_malformed_id_is_the_not_found_of_each_mutation_that_takes_one(
    client, mutation, fields, type_name
) -> None:
    # Given a signed-in account, and the answer for an ID of the right type that names nothing
    token = await registered_and_signed_in(client)
    unknown = await mutate(client, mutation, {"id": b64(f"{type_name}:999"), **fields}, "__typename", token)
    assert unknown["errors"][0]["code"].endswith("NOT_FOUND")
    # When IDs this API never gave out are sent (another type's included)
    for malformed in ("", "!!!", b64(f"{type_name}:" + "9" * 30), b64(f"{type_name}:１"), b64("Session:999")):
        answer = await mutate(client, mutation, {"id": malformed, **fields}, "__typename", token)
        # Then each gets that same answer
        assert answer == unknown, malformed


UPLOAD_MALFORMED = {
    "stored name": "doc_0123456789abcdefghijkl",
    "another type": b64("Appeal:1"),
    "unpadded": b64("UploadedDocument:12").rstrip("="),
    "beyond 64 bits": b64("UploadedDocument:" + "9" * 30),
    "NUL": b64("UploadedDocument:1") + "\x00",
    "empty": "",
}


async def test_org_3_a_malformed_upload_id_is_document_not_found_like_another_accounts_upload(client) -> None:
    from tests.api.test_appeals import NEW_PHONE, PERSON, _upload
    from tests.api.test_enterprise import USCC_SOCIAL_GROUP, organisation
    from tests.api.test_verification import ID_2008
    from tests.helpers import VERIFICATION_AGREEMENT

    # Given alice's materials, and an upload of bob's (an ID alice may not use)
    bob = await registered_and_signed_in(client, "bob0001", "13700000002")
    bobs = await _upload(client, bob)
    alice = await registered_and_signed_in(client)
    mine = [await _upload(client, alice) for _ in PERSON]

    async def appeal(upload_id: str) -> dict:
        materials = [{"role": r, "uploadId": u} for r, u in zip(PERSON, [mine[0], upload_id, mine[2]], strict=True)]
        data = {"newPhone": NEW_PHONE, "newPhoneCode": "123456", "materials": materials}
        return await mutate(client, "phoneRebindAppealFile", data, "appeal { id }", alice)

    async def letter(upload_id: str, certificate: str | None = None) -> dict:
        org = organisation(name="示例市软件行业协会", code=USCC_SOCIAL_GROUP, kind="SOCIAL_GROUP")
        data = {
            "organisation": {**org, "certificateUploadId": mine[1] if certificate is None else certificate},
            "faceBy": "AUTHORISED_EMPLOYEE",
            "employeeName": "李四",
            "employeeIdNumber": ID_2008,
            "authorisationLetterUploadId": upload_id,
            "agreement": VERIFICATION_AGREEMENT,
        }
        return await mutate(
            client, "enterpriseVerificationLegalRepFaceStart", data, "faceCheckStart { __typename }", alice
        )

    for send, path in (
        (appeal, ["input", "materials", "1", "uploadId"]),
        (letter, ["input", "authorisationLetterUploadId"]),
        (lambda u: letter(mine[1], certificate=u), ["input", "organisation", "certificateUploadId"]),  # ORG-4
    ):
        foreign = await send(bobs)
        assert [(e["code"], e["path"]) for e in foreign["errors"]] == [("DOCUMENT_NOT_FOUND", path)]
        # When alice sends an upload ID this API never gave out, each is answered exactly so
        for name, malformed in UPLOAD_MALFORMED.items():
            assert await send(malformed) == foreign, name


NODE_QUERY = "query($id: ID!) { agreements { kind } node(id: $id) { id } }"


@pytest.mark.parametrize("malformed", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_id_in_a_query_is_bad_user_input_on_that_field_only(client, caplog, malformed) -> None:
    # Given a signed-in account
    token = await registered_and_signed_in(client)
    caplog.set_level(logging.ERROR)
    # When `node` is asked for an ID this API never gave out, next to another field
    response = await client.post(
        "/graphql",
        json={"query": NODE_QUERY, "variables": {"id": malformed}},
        headers={"authorization": f"Bearer {token}"},
    )
    # Then that field is null with a BAD_USER_INPUT error, the other field is answered, nothing is logged as a fault
    body = response.json()
    assert response.status_code == 200
    assert body["data"]["node"] is None
    assert len(body["data"]["agreements"]) > 0
    assert [(e["message"], e["path"], e["extensions"]) for e in body["errors"]] == [
        ("`id` is not a global ID of this API.", ["node"], {"code": "BAD_USER_INPUT"})
    ]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_well_formed_id_that_is_not_the_viewers_is_null_without_error(client) -> None:
    # Given alice and bob signed in
    alice = await registered_and_signed_in(client)
    bob = await registered_and_signed_in(client, "bob0001", "13700000002")
    mine, bobs = await _session_id(client, alice), await _session_id(client, bob)
    # When alice asks for her session, bob's, and one that does not exist
    answers = [
        await gql(client, NODE_QUERY, {"id": id}, token=alice)
        for id in (mine, bobs, b64("Session:9223372036854775807"))
    ]
    # Then hers is found; bob's and the unknown one are both plain null
    assert [a["node"] for a in answers] == [{"id": mine}, None, None]


async def test_a_literal_malformed_id_is_bad_user_input_too(client) -> None:
    body = await gql(client, '{ node(id: "") { id } banks }', expect_errors=True)
    assert body["data"]["node"] is None
    assert len(body["data"]["banks"]) > 0
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}


async def test_bad_user_input_is_not_masked_in_production(settings, clock, db) -> None:
    # Given the production app, which masks unexpected errors
    production = replace(settings, environment="production", sandbox=False, secret_key="k" * 32)
    app = create_app(production, clock=clock, db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        # When `node` gets an ID this API never gave out
        body = await gql(c, NODE_QUERY, {"id": MALFORMED["beyond 64 bits"]}, expect_errors=True)
    # Then the error says so, with its code
    assert body["errors"][0]["message"] == "`id` is not a global ID of this API."
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}


SESSIONS_AFTER = (
    "query($after: String) { agreements { kind } viewer { sessions(first: 1, after: $after) { totalCount } } }"
)


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%",
        b64url("Appeal:1"),  # another list's
        b64url("Session:" + "9" * 30),
        b64url("Session:１"),
        b64url("Session:0"),
        b64url("Session:1").rstrip("=") + "==",
    ],
)
async def test_a_cursor_this_list_never_gave_out_is_bad_user_input(client, caplog, cursor) -> None:
    # Given a signed-in account
    token = await registered_and_signed_in(client)
    caplog.set_level(logging.ERROR)
    # When its sessions are paged after a cursor that list never gave out
    body = await gql(client, SESSIONS_AFTER, {"after": cursor}, token=token, expect_errors=True)
    # Then the error is BAD_USER_INPUT on that field, and the other root field is answered
    assert [(e["message"], e["path"], e["extensions"]) for e in body["errors"]] == [
        ("`after` is not a cursor of this list.", ["viewer", "sessions"], {"code": "BAD_USER_INPUT"})
    ]
    assert len(body["data"]["agreements"]) > 0
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_the_cursor_a_list_gave_out_pages_it(client) -> None:
    token = await registered_and_signed_in(client)
    await sign_in(client, "alice01")
    first = await gql(client, "{ viewer { sessions(first: 1) { pageInfo { endCursor hasNextPage } } } }", token=token)
    page = first["viewer"]["sessions"]["pageInfo"]
    assert page["hasNextPage"] is True
    data = await gql(client, SESSIONS_AFTER, {"after": page["endCursor"]}, token=token)
    assert data["viewer"]["sessions"]["totalCount"] == 2


@pytest.mark.parametrize(
    "body",
    [
        # a lone surrogate: valid JSON, not text (no hash, database or log can encode it)
        '{"query": "query($t: String!) { qrLoginTicket(token: $t) { status } }", "variables": {"t": "\\ud800"}}',
        '{"query": "{ banks }", "variables": {"x": ["a", {"b": "\\udfff"}]}}',
        # nested past the recursion limit, within the body cap
        '{"query": "{ banks }", "variables": {"x": ' + "[" * 20_000 + "]" * 20_000 + "}}",
    ],
    ids=["lone surrogate", "nested lone surrogate", "nested 20000 deep"],
)
async def test_a_body_that_is_not_json_text_is_a_400(client, body) -> None:
    response = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.text == "Unable to parse request body as JSON"


async def test_a_surrogate_pair_is_text(client) -> None:
    body = {"query": "query($t: String!) { qrLoginTicket(token: $t) { status } }", "variables": {"t": "😀"}}
    response = await client.post("/graphql", content=json.dumps(body), headers={"content-type": "application/json"})
    assert response.json() == {"data": {"qrLoginTicket": None}}
