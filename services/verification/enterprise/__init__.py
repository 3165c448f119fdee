"""Enterprise real-name verification (RNE-1..9, ORG-1, ORG-3; RN-1, RN-5, RN-6, RN-7).

Three methods (RNE-1), each an `EnterpriseApplication` with its line in the attempt history:
- legal-representative face (RNE-2, RNE-3): the business registry confirms the organisation, the
  legal representative (or, for other organisations, an authorised employee with a signed letter)
  passes a face check; an enterprise is then verified, another organisation goes to the
  2-working-day review queue. At most 10 attempts per account.
- corporate bank transfer (RNE-4..7): the handler passes a face check, the service pays a random
  0.01-1.00 CNY into the corporate account (once: looked up by its reference when a request fails),
  the user enters it within 8 days of its arrival; two wrong entries fail it; a risk hit sends a
  right amount to review. At most 10 attempts per account. Not offered to public institutions nor
  to payment-licence holders (RNE-6).
- recharge (RNE-8): a dedicated remittance account (created after an SMS code), a random amount to
  pay within 3 days from an account named exactly as the organisation; the money is credited to the
  balance whatever happens.
Like personal verification, provider calls run between transactions (see `personal`).

One module a step: `checks` (the forms), `applications` (claiming, moving on and deciding an application),
`states` (its states and the table of allowed moves), `face` (legal-representative face, and the face step
of a transfer), `transfer` (the payout and the amount), `recharge`, `review` (the review queue's handler,
registered when this package is imported); `repository` holds their SQL.
"""

from __future__ import annotations

# The review queue finds the handler of enterprise verifications by its kind: registered on import.
from services.verification.enterprise import review as review
