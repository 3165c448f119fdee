"""Subject changes (CHG-1..7): the account's verified subject replaced while the account stays.

- `states`: the kinds, the states and the moves between them;
- `repository`: the SQL;
- `service`: start (CHG-1, CHG-6), withdraw (CHG-7), the acceptance agreement, reads and the sweeper;
- `inside`: what a verification run inside a change asks of it (the step, the attempts counted per
  change) and the completion that makes the new subject the account's (RN-3, RN-7, ENT, STU).
"""
