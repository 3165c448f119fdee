"""Inputs of the person-side subject-change steps (CHG-4, CHG-5): the current person's identity proof."""

from __future__ import annotations

import strawberry

from schema.inputs.changes import CHANGE_ID


@strawberry.input(
    description="Prove by face that the account's verified person is making the change (CHG-4, CHG-5). Nothing "
    "about the person is typed: the face check is of the verified name and document."
)
class SubjectChangeIdentityFaceStartInput:
    change_id: strawberry.ID = strawberry.field(description=CHANGE_ID)


@strawberry.input(
    description="Prove by bank card that the account's verified person is making the change (CHG-4, CHG-5): a "
    "UnionPay card of the verified name and mainland ID number, its reserved phone and the BANK_CARD code sent to "
    "that phone with `verificationCodeSend` and this `changeId` (RNP-4). CHG-5: at most 5 attempts in one change."
)
class SubjectChangeIdentityBankCardSubmitInput:
    change_id: strawberry.ID = strawberry.field(description=CHANGE_ID)
    card_number: str = strawberry.field(
        description="A UnionPay card number (starting with 62) passing the Luhn check (RNP-4, RNP-6); spaces allowed."
    )
    reserved_phone: str = strawberry.field(description="The mobile number reserved at the bank for this card.")
    code: str = strawberry.field(description="The BANK_CARD code sent to `reservedPhone` for this change.")
