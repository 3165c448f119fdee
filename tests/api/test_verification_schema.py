"""Issue 12 items 2-3 for the verification, appeal, student-status and upload mutations: one `input`,
inputs that say at the type level what they need (required things non-null, input enums holding only
the values the input may take, upload IDs as IDs), payloads whose result objects are null exactly when
`errors` is not empty and whose own fields are non-null, and enums (each value described) where a
field holds one of a fixed set.

RULES: RN-6 RNE-2 RNE-3 RNP-4 STU-3 APL-1 APL-2 REV-4 ORG-2
"""

from __future__ import annotations

from pathlib import Path

import graphql
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = graphql.build_schema((ROOT / "schema.graphql").read_text())
ERRORS = "[UserError!]!"
START_PAYLOAD = {"faceCheckStart": "EnterpriseFaceCheckStart", "account": "Account", "errors": ERRORS}
STEP_PAYLOAD = {"enterpriseVerification": "EnterpriseVerification", "account": "Account", "errors": ERRORS}
APPEAL_PAYLOAD = {"appeal": "Appeal", "appealToken": "AppealToken", "errors": ERRORS}
STUDENT_PAYLOAD = {"studentStatus": "StudentStatus", "account": "Account", "errors": ERRORS}
AGREEMENT = "VerificationAgreementInput!"

# mutation: (input fields, payload fields)
SHAPES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "personalVerificationFaceStart": (
        {
            "documentType": "DocumentType!",
            "name": "String!",
            "documentNumber": "String!",
            "agreement": AGREEMENT,
            "changeId": "ID",  # CHG-5: the new person inside a change
        },
        {"faceCheckStart": "PersonalFaceCheckStart", "account": "Account", "errors": ERRORS},
    ),
    "personalVerificationBankCardSubmit": (
        {
            "name": "String!",
            "idNumber": "String!",
            "cardNumber": "String!",
            "reservedPhone": "String!",
            "code": "String!",
            "agreement": AGREEMENT,
            "changeId": "ID",  # CHG-5: the new person inside a change
        },
        {"verification": "PersonalVerification", "account": "Account", "errors": ERRORS},
    ),
    "enterpriseVerificationLegalRepFaceStart": (
        {
            "organisation": "OrganisationInput!",
            "faceBy": "LegalRepFaceBy!",
            "legalRepresentativeIdNumber": "String",
            "employeeName": "String",
            "employeeIdNumber": "String",
            "authorisationLetterUploadId": "ID",
            "agreement": AGREEMENT,
            "changeId": "ID",  # CHG-3, CHG-4: the new subject of a change
        },
        START_PAYLOAD,
    ),
    "enterpriseVerificationBankTransferStart": (
        {
            "organisation": "OrganisationInput!",
            "bankName": "String!",
            "accountNumber": "String!",
            "handlerName": "String!",
            "handlerIdNumber": "String!",
            "agreement": AGREEMENT,
            "changeId": "ID",
        },
        START_PAYLOAD,
    ),
    "enterpriseVerificationAmountConfirm": ({"id": "ID!", "amount": "String!"}, STEP_PAYLOAD),
    "enterpriseVerificationRechargeStart": (
        {"organisation": "OrganisationInput!", "code": "String", "agreement": AGREEMENT, "changeId": "ID"},
        STEP_PAYLOAD,
    ),
    "enterpriseVerificationMaterialAnswer": (  # RNE-3, ORG-4: either or both (MATERIAL_MISSING for none)
        {"id": "ID!", "authorisationLetterUploadId": "ID", "certificateUploadId": "ID"},
        STEP_PAYLOAD,
    ),
    "phoneRebindAppealFile": (
        {"newPhone": "String!", "newPhoneCode": "String!", "materials": "[AppealMaterialInput!]!"},
        APPEAL_PAYLOAD,
    ),
    "mfaUnbindAppealFile": ({"materials": "[AppealMaterialInput!]!"}, APPEAL_PAYLOAD),
    "appealAnswer": ({"id": "ID!", "materials": "[AppealMaterialInput!]!"}, APPEAL_PAYLOAD),
    # APL-2 signed out
    "phoneRebindAppealStart": (
        {"loginName": "String!", "newPhone": "String!", "newPhoneCode": "String!"},
        {"appealToken": "AppealToken", "errors": "[UserError!]!"},
    ),
    "phoneRebindAppealSubmit": (
        {"appealToken": "String!", "materials": "[AppealMaterialInput!]!"},
        APPEAL_PAYLOAD,
    ),
    "appealAnswerByToken": (
        {"appealToken": "String!", "materials": "[AppealMaterialInput!]!"},
        APPEAL_PAYLOAD,
    ),
    "studentStatusApply": (
        {
            "school": "String!",
            "major": "String!",
            "level": "StudentLevel!",
            "expectedGraduation": "YearMonthInput!",
            "email": "String!",
        },
        STUDENT_PAYLOAD,
    ),
    "studentStatusConfirm": (
        {"code": "String!", "agreements": "[StudentAgreementAcceptanceInput!]!"},
        STUDENT_PAYLOAD,
    ),
}


def _fields(name: str) -> dict[str, str]:
    found = SCHEMA.type_map[name]
    assert isinstance(found, graphql.GraphQLObjectType | graphql.GraphQLInputObjectType), name
    return {n: str(f.type) for n, f in found.fields.items()}


@pytest.mark.parametrize("mutation", SHAPES)
def test_each_mutation_takes_one_required_input_and_answers_its_payload(mutation: str) -> None:
    assert SCHEMA.mutation_type is not None
    field = SCHEMA.mutation_type.fields[mutation]
    inputs, payload = SHAPES[mutation]
    assert {n: str(a.type) for n, a in field.args.items()} == {"input": mutation[0].upper() + mutation[1:] + "Input!"}
    assert _fields(str(field.args["input"].type).rstrip("!")) == inputs
    assert _fields(str(field.type).rstrip("!")) == payload


def test_the_result_objects_fields_are_non_null() -> None:
    assert _fields("PersonalFaceCheckStart") == {"attempt": "VerificationAttempt!", "faceCheck": "FaceCheck!"}
    assert _fields("EnterpriseFaceCheckStart") == {
        "enterpriseVerification": "EnterpriseVerification!",
        "faceCheck": "FaceCheck!",
    }
    assert _fields("FaceCheck") == {"url": "String!", "qrCodeSvg": "String!", "expiresAt": "DateTime!"}


def test_nested_inputs_and_upload_ids() -> None:
    assert _fields("VerificationAgreementInput") == {"version": "String!"}  # RN-6: the agreement's kind is implied
    assert _fields("OrganisationInput") == {
        "name": "String!",
        "uscc": "String!",
        "organisationType": "OrganisationType!",
        "legalRepresentativeName": "String!",
        "certificateUploadId": "ID",  # ORG-4: required; CERTIFICATE_REQUIRED with the form's other problems
    }
    assert _fields("AppealMaterialInput") == {"role": "AppealMaterialRole!", "uploadId": "ID!"}
    assert _fields("StudentAgreementAcceptanceInput") == {"kind": "StudentAgreementKind!", "version": "String!"}
    # POST /uploads answers the global ID of this type; `node` reads it back
    assert _fields("UploadedDocument") == {
        "id": "ID!",
        "filename": "String!",
        "contentType": "String!",
        "size": "Int!",
        "width": "Int!",
        "height": "Int!",
        "createdAt": "DateTime!",
    }
    uploaded = SCHEMA.type_map["UploadedDocument"]
    assert isinstance(uploaded, graphql.GraphQLObjectType)
    assert [i.name for i in uploaded.interfaces] == ["Node"]


ENUMS = {
    # input enums: only what the input may take
    "LegalRepFaceBy": {"LEGAL_REPRESENTATIVE", "AUTHORISED_EMPLOYEE"},  # RNE-2, RNE-3: no HANDLER
    "StudentAgreementKind": {"STUDENT_VERIFICATION", "STUDENT_PERSONAL_INFORMATION"},  # STU-3
    # fixed sets that were strings
    "AppealKind": {"MFA_UNBIND", "PHONE_REBIND"},
    "RejectReason": {
        "MATERIAL_UNCLEAR",
        "MATERIAL_MISSING",
        "MATERIAL_MISMATCH",
        "INFORMATION_INCONSISTENT",
        "SUSPECTED_FRAUD",
        "NOT_ELIGIBLE",
        "OTHER",
        # ORG-4: the certificate's photo requirements
        "CERTIFICATE_WRONG_TYPE",
        "CERTIFICATE_NOT_ORIGINAL",
        "CERTIFICATE_NOT_LEGIBLE",
        "CERTIFICATE_ALTERED",
    },  # REV-4
    "AcceptanceContext": {"REGISTRATION", "ACTIVATION", "VERIFICATION", "STUDENT", "SUBJECT_CHANGE", "CANCELLATION"},
}


@pytest.mark.parametrize("name", ENUMS)
def test_the_enums_hold_exactly_their_values_each_described(name: str) -> None:
    enum = SCHEMA.type_map[name]
    assert isinstance(enum, graphql.GraphQLEnumType)
    assert set(enum.values) == ENUMS[name]
    assert enum.description
    assert all(v.description for v in enum.values.values()), name


def test_kinds_contexts_and_reasons_are_enums_on_the_outputs() -> None:
    assert _fields("Appeal")["kind"] == "AppealKind!"
    assert _fields("Appeal")["rejectReason"] == "RejectReason"
    assert _fields("EnterpriseReview")["rejectReason"] == "RejectReason"
    assert _fields("AgreementAcceptance")["context"] == "AcceptanceContext!"
    # FaceBy on the output keeps HANDLER: a bank transfer's handler does its face check (RNE-4)
    face_by = SCHEMA.type_map["FaceBy"]
    assert isinstance(face_by, graphql.GraphQLEnumType)
    assert set(face_by.values) == {"LEGAL_REPRESENTATIVE", "AUTHORISED_EMPLOYEE", "HANDLER"}
