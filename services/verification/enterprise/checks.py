"""Enterprise verification: the forms of the three methods and their local checks (RNE-9, RNE-2, RNE-3,
RNE-4, RNE-6, RNE-8, ORG-4, RN-6), every problem at once and none of them an attempt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from services.checksums import valid_uscc
from services.clock import SHANGHAI
from services.codes import service as codes
from services.errors import Problems, ServiceError, checked
from services.text import has_control_characters, is_ascii_digits
from services.verification.documents import (
    DocumentType,
    Subject,
    check_document_number,
    check_name,
    check_subject,
)
from services.verification.errors import VerificationErrorCode as Code
from services.verification.organisations import TYPES, OrganisationType, is_enterprise, transfer_offered
from services.verification.steps import check_agreement

ORG_NAME_MAX = 128


class FaceBy(Enum):
    LEGAL_REPRESENTATIVE = "legal_rep"
    AUTHORISED_EMPLOYEE = "employee"  # RNE-3, other organisations only
    HANDLER = "handler"  # RNE-4: the person handling a corporate bank transfer


class LegalRepFaceBy(Enum):
    """Who does the face check of a legal-representative face verification (RNE-2, RNE-3): the values of
    `FaceBy` this method takes (a handler acts in bank transfers only)."""

    LEGAL_REPRESENTATIVE = FaceBy.LEGAL_REPRESENTATIVE.value
    AUTHORISED_EMPLOYEE = FaceBy.AUTHORISED_EMPLOYEE.value


# Where each organisation field is in the inputs (they nest it as `organisation`).
ORG = "organisation"


CERTIFICATE_FIELD = f"{ORG}.certificateUploadId"  # ORG-4


@dataclass(frozen=True, slots=True)
class Organisation:
    name: str
    uscc: str
    organisation_type: OrganisationType
    legal_rep_name: str
    certificate_document_id: int  # ORG-4: the upload's row ID, not yet known to be the account's


@dataclass(frozen=True, slots=True)
class OrganisationInput:
    name: str
    uscc: str
    organisation_type: OrganisationType
    legal_rep_name: str
    # ORG-4: the upload's row ID of the certificate image; None when none was given, a number that names no
    # row when it was malformed.
    certificate_document_id: int | None = None


@dataclass(frozen=True, slots=True)
class LegalRepFaceInput:
    organisation: OrganisationInput
    legal_rep_id_number: str | None
    face_by: LegalRepFaceBy
    employee_name: str | None
    employee_id_number: str | None
    # The upload's row ID; None when none was given, a number that names no row when it was malformed.
    authorisation_document_id: int | None
    agreement_version: str
    change_id: int | None = None  # CHG-3, CHG-4: the subject change this verification runs inside


@dataclass(frozen=True, slots=True)
class BankTransferInput:
    organisation: OrganisationInput
    bank_name: str
    account_number: str
    handler_name: str
    handler_id_number: str
    agreement_version: str
    change_id: int | None = None  # CHG-3, CHG-4: the subject change this verification runs inside


@dataclass(frozen=True, slots=True)
class RechargeInput:
    organisation: OrganisationInput
    code: str | None
    agreement_version: str
    change_id: int | None = None  # CHG-3, CHG-4: the subject change this verification runs inside


@dataclass(frozen=True, slots=True)
class Claim:
    organisation: Organisation
    actor: Subject | None  # who does the face check
    version: str
    authorisation_document_id: int | None = None
    bank_name: str | None = None
    account_number: str | None = None
    # The input fields of the actor's name and ID number, where the identity registry's answer points.
    actor_fields: tuple[str, str] | None = None
    change_id: int | None = None  # CHG-3, CHG-4: the subject change this verification runs inside


# --- local checks ------------------------------------------------------------------------------


def shanghai_today(now: datetime) -> date:
    return now.astimezone(SHANGHAI).date()


def _organisation_name(raw: str) -> str:
    name = " ".join((raw or "").split())
    if not name or len(name) > ORG_NAME_MAX or has_control_characters(raw):  # one line, no NUL
        raise ServiceError(
            Code.ORGANISATION_NAME_INVALID,
            f"Enter the organisation's registered name (at most {ORG_NAME_MAX}).",
            f"{ORG}.name",
        )
    return name


def _uscc(raw: str) -> str:
    uscc = "".join((raw or "").split()).upper()
    # GB 32100: checked before any registry call, never an attempt (RNE-2, RNE-9).
    if not valid_uscc(uscc):
        raise ServiceError(
            Code.USCC_INVALID,
            "This is not a valid unified social credit code (check the last character).",
            f"{ORG}.uscc",
        )
    return uscc


def check_organisation(data: OrganisationInput) -> Organisation:
    """RNE-9's local checks of the organisation, every problem at once (paths under `organisation`)."""
    problems = Problems()
    name = checked(problems, _organisation_name, data.name)
    uscc = checked(problems, _uscc, data.uscc)
    legal_rep = checked(problems, check_name, data.legal_rep_name, f"{ORG}.legalRepresentativeName")
    # ORG-4: every organisation's verification carries the image of the certificate named for its type.
    if data.certificate_document_id is None:
        certificate = TYPES[data.organisation_type]
        problems.add(
            Code.CERTIFICATE_REQUIRED,
            f"Upload a colour photo or scan of the {certificate.certificate_en.lower()} ({certificate.certificate_zh}), "
            "or a copy bearing a fresh company stamp.",
            CERTIFICATE_FIELD,
        )
    if (refusal := problems.refusal()) is not None:
        raise refusal
    assert name is not None
    assert uscc is not None
    assert legal_rep is not None
    assert data.certificate_document_id is not None
    return Organisation(name, uscc, data.organisation_type, legal_rep, data.certificate_document_id)


def _person(name: str | None, number: str | None, now: datetime, name_field: str, number_field: str) -> Subject:
    return check_subject(
        name or "",
        DocumentType.MAINLAND_ID_CARD,
        number or "",
        shanghai_today(now),
        name_field=name_field,
        number_field=number_field,
    )


def _refused_if_any(problems: Problems) -> None:
    if (refusal := problems.refusal()) is not None:
        raise refusal


def check_legal_rep_face(data: LegalRepFaceInput, now: datetime) -> Claim:
    """RNE-2, RNE-3, RN-6: every problem of the form at once; none of them is an attempt."""
    problems = Problems()
    organisation = checked(problems, check_organisation, data.organisation)
    actor: Subject | None = None
    fields: tuple[str, str]
    if data.face_by is LegalRepFaceBy.LEGAL_REPRESENTATIVE:
        fields = (f"{ORG}.legalRepresentativeName", "legalRepresentativeIdNumber")
        number = checked(
            problems,
            check_document_number,
            DocumentType.MAINLAND_ID_CARD,
            data.legal_rep_id_number or "",
            shanghai_today(now),
            fields[1],
        )
        if organisation is not None and number is not None:
            actor = Subject(organisation.legal_rep_name, DocumentType.MAINLAND_ID_CARD, number)
    # RNE-3: an authorised employee only for other organisations, with the signed authorisation letter.
    elif is_enterprise(data.organisation.organisation_type):
        fields = ("employeeName", "employeeIdNumber")
        problems.add(
            Code.AUTHORISED_EMPLOYEE_NOT_ALLOWED,
            "An enterprise is verified by its legal representative's face; employees act for other organisations only.",
            "faceBy",
        )
    else:
        fields = ("employeeName", "employeeIdNumber")
        actor = checked(problems, _person, data.employee_name, data.employee_id_number, now, *fields)
        if data.authorisation_document_id is None:
            problems.add(
                Code.AUTHORISATION_LETTER_REQUIRED,
                "Upload the authorisation letter signed by the legal representative and stamped (template: "
                "/downloads/authorisation-letter).",
                "authorisationLetterUploadId",
            )
    version = checked(problems, check_agreement, data.agreement_version)
    _refused_if_any(problems)
    assert organisation is not None
    assert actor is not None
    assert version is not None
    letter = data.authorisation_document_id if data.face_by is LegalRepFaceBy.AUTHORISED_EMPLOYEE else None
    return Claim(
        organisation,
        actor,
        version,
        authorisation_document_id=letter,
        actor_fields=fields,
        change_id=data.change_id,
    )


def _bank_name(raw: str, bank_names: tuple[str, ...]) -> str:
    bank = (raw or "").strip()
    if bank not in bank_names:  # RNE-9: the opening bank comes from the list the service offers
        raise ServiceError(Code.BANK_NAME_WRONG, "Choose the opening bank from the `banks` list.", "bankName")
    return bank


def _account_number(raw: str) -> str:
    number = "".join((raw or "").split()).replace("-", "")
    if not is_ascii_digits(number) or not 6 <= len(number) <= 32:
        raise ServiceError(Code.ACCOUNT_NUMBER_INVALID, "Enter the corporate account number (digits).", "accountNumber")
    return number


def check_bank_transfer(data: BankTransferInput, now: datetime, bank_names: tuple[str, ...]) -> Claim:
    """RNE-4, RNE-6, RNE-9, RN-6: every problem of the form at once; none of them is an attempt."""
    problems = Problems()
    organisation = checked(problems, check_organisation, data.organisation)
    # RNE-6: not offered to public institutions (payment-licence holders are known after the registry).
    if not transfer_offered(data.organisation.organisation_type, False):
        problems.add(
            Code.METHOD_NOT_OFFERED,
            "Corporate bank transfer is not offered to public institutions; use legal-representative face or recharge.",
            f"{ORG}.organisationType",
        )
    bank = checked(problems, _bank_name, data.bank_name, bank_names)
    number = checked(problems, _account_number, data.account_number)
    fields = ("handlerName", "handlerIdNumber")
    actor = checked(problems, _person, data.handler_name, data.handler_id_number, now, *fields)
    version = checked(problems, check_agreement, data.agreement_version)
    _refused_if_any(problems)
    assert organisation is not None
    assert actor is not None
    assert version is not None
    return Claim(
        organisation,
        actor,
        version,
        bank_name=bank,
        account_number=number,
        actor_fields=fields,
        change_id=data.change_id,
    )


def check_recharge(data: RechargeInput) -> Claim:
    """RNE-8, RNE-9, RN-6: every problem of the form at once."""
    problems = Problems()
    organisation = checked(problems, check_organisation, data.organisation)
    if data.code:
        checked(problems, codes.check_format, data.code)
    version = checked(problems, check_agreement, data.agreement_version)
    _refused_if_any(problems)
    assert organisation is not None
    assert version is not None
    return Claim(organisation, None, version, change_id=data.change_id)
