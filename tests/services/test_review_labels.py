"""REV-2, REV-4: the back office shows kinds, states, audit actions, reject reasons and material roles in
words, each from its one table (services/review/labels.py), and each queue's open and overdue counts from
one grouped statement.

RULES: REV-2 REV-4 ORG-4
"""

from __future__ import annotations

import inspect
import re
from datetime import timedelta

from sqlalchemy import event

from models.review import ReviewItem
from services.appeals import service as appeals
from services.database import Database, run_read
from services.review import labels, queues
from services.review import service as review
from services.review.kinds import REASON_LABELS, RejectReason, registered_kinds
from services.verification.changes import review as change_review
from tests.services.test_review_queues import local, seeded  # noqa: F401 - `seeded` is a fixture used by name

ENTERPRISE_ROLES = ("ORGANISATION_CERTIFICATE", "AUTHORISATION_LETTER")  # services/verification/enterprise/review.py


def _is_words(text: str, key: str) -> bool:
    """Chinese / English, as every label of the back office reads, not the identifier itself."""
    zh, _, en = text.partition(" / ")
    return bool(zh) and bool(en) and text != key


def test_rev_2_every_material_role_of_every_kind_has_words() -> None:
    roles = {role for sets in appeals.MATERIALS.values() for roles in sets.values() for role in roles}
    roles |= set(ENTERPRISE_ROLES) | set(change_review.ROLES)
    missing = sorted(role for role in roles if not _is_words(labels.material_label(role), role))
    assert missing == [], "add these roles to services/review/labels.py MATERIAL_LABELS"
    assert labels.material_label("ID_CARD_IN_HAND") == "手持身份证照片（正反面） / ID card held in hand, both sides"


def test_rev_2_every_kind_state_and_audit_action_has_words() -> None:
    assert registered_kinds()  # appeals and enterprise verification register theirs on import
    for kind in registered_kinds():
        assert _is_words(labels.kind_label(kind), kind), kind
    assert labels.kind_label("phone_rebind") == "手机号换绑申诉 / phone-rebind appeal"
    for state in queues.ALL_STATES:
        assert _is_words(labels.state_label(state), state), state
    assert labels.state_label("pending") == "待领取 / pending, unclaimed"
    # Every action the review service writes to the audit trail
    actions = set(re.findall(r'_audit\(uow, [^)]*?"([a-z_]+)"', inspect.getsource(review)))
    assert actions == set(labels.ACTION_LABELS), actions
    # An identifier without words is shown as it is, never an error page
    assert labels.state_label("no_such_state") == "no_such_state"


def test_rev_4_org_4_every_reject_reason_has_words_in_both_languages() -> None:
    assert set(REASON_LABELS) == set(RejectReason)
    assert labels.reason_label("CERTIFICATE_ALTERED") == (
        "证照图片为翻拍、截图、镜像或经过编辑 / the certificate image is re-photographed, a screenshot, mirrored or edited"
    )
    assert labels.reason_label(None) == ""


async def test_rev_2_open_and_overdue_counts_of_both_queues_in_one_statement(app, db: Database, seeded) -> None:  # noqa: F811 - the fixture
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        counts = await run_read(db, app.state.deps, queues.counts)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    # 2-day queue: four open (pending, claimed, pending overdue, waiting), one overdue; the approved one is not
    # counted. 5-day queue: one open, overdue.
    assert counts == {2: queues.QueueCount(open=4, overdue=1), 5: queues.QueueCount(open=1, overdue=1)}
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1

    # More items do not add statements
    async with db.write_sessions() as s:
        account_id = (await s.get(ReviewItem, 1)).account_id
        s.add_all(
            ReviewItem(kind="org_face", subject_id=9, account_id=account_id, queue_days=2, state="pending",
                       submitted_at=local(2026, 11, 1, 9, 0), due_at=local(2026, 11, 2, 23, 59, 59) + timedelta(days=i))
            for i in range(30)
        )  # fmt: skip
        await s.commit()
    statements.clear()
    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        counts = await run_read(db, app.state.deps, queues.counts)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    # the 24 due 2 to 25 November are overdue on 26 November, with the one before
    assert counts[2] == queues.QueueCount(open=34, overdue=25)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
