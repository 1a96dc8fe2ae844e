"""Shared approvals: request, decide, and hand the decision to the app that asked.

Apps register each kind once (`register_approval_kind`) with the callbacks that run, in
the deciding transaction, when a request of that kind is approved or rejected.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from erp.errors import Conflict, NotFound, NotPermitted, ValidationFailed
from erp.input_bounds import change_reason_max_length
from erp.models import ApprovalPolicy, ApprovalRequest
from erp.roles import require_permission
from erp.services.master_data import save_record


@dataclass(frozen=True)
class ApprovalKind:
    kind: str
    label: str
    default_threshold: Decimal
    permission: str
    on_approved: Callable
    on_rejected: Callable


_kinds: dict[str, ApprovalKind] = {}


def register_approval_kind(
    kind: str,
    *,
    label: str,
    default_threshold: Decimal,
    permission: str,
    on_approved: Callable,
    on_rejected: Callable,
) -> None:
    _kinds[kind] = ApprovalKind(
        kind, label, Decimal(default_threshold), permission, on_approved, on_rejected
    )


def registered_kinds() -> list[ApprovalKind]:
    return list(_kinds.values())


def policy_for(kind: str) -> ApprovalPolicy:
    """The stored policy for `kind`, created from the registered defaults on first use."""
    registered = _kinds.get(kind)
    if registered is None:
        raise NotFound(f"No approval kind {kind!r} is registered.", field="kind")
    policy, _ = ApprovalPolicy.objects.get_or_create(
        kind=kind,
        defaults={
            "label": registered.label,
            "threshold": registered.default_threshold,
            "permission": registered.permission,
        },
    )
    return policy


EDITABLE_POLICY_FIELDS = {"label", "threshold", "active"}


def update_approval_policy(
    *, policy: ApprovalPolicy, actor, data: dict, reason: str
) -> ApprovalPolicy:
    """Change a kind's threshold, label or whether it applies at all. The threshold is
    never below zero (the model's validator); who may approve is the kind's registered
    permission, set in code, not here. The next request of the kind reads the new value."""
    unknown = sorted(set(data) - EDITABLE_POLICY_FIELDS)
    if unknown:
        raise ValidationFailed(
            f"{unknown[0]} cannot be changed here.", field=unknown[0], code="not_editable"
        )
    return save_record(ApprovalPolicy, instance=policy, actor=actor, data=data, reason=reason)


def ensure_policies() -> list[ApprovalPolicy]:
    """A stored policy for every registered kind (idempotent), so each can be edited
    before its first request."""
    return [policy_for(kind.kind) for kind in registered_kinds()]


def needs_approval(*, kind: str, amount: Decimal) -> bool:
    """True when `amount` (absolute value) is above the kind's threshold."""
    policy = policy_for(kind)
    return policy.active and abs(Decimal(amount)) > policy.threshold


def request_approval(
    *,
    kind: str,
    subject,
    amount: Decimal,
    requested_by,
    summary: str,
    currency: str = "USD",
    note: str = "",
) -> ApprovalRequest:
    """Open a pending request for `subject`; one pending request per subject."""
    policy_for(kind)
    subject_type = ContentType.objects.get_for_model(subject)
    if ApprovalRequest.objects.filter(
        subject_type=subject_type, subject_id=subject.pk, state=ApprovalRequest.State.PENDING
    ).exists():
        raise Conflict("This already waits for approval.", code="already_pending")
    request = ApprovalRequest(
        kind=kind,
        subject_type=subject_type,
        subject_id=subject.pk,
        summary=summary[:255],
        amount=abs(Decimal(amount)).quantize(Decimal("0.01")),
        currency=currency,
        requested_by=requested_by,
        request_note=note,
    )
    request._history_user = requested_by
    request.save()
    return request


def can_decide(*, request: ApprovalRequest, actor) -> bool:
    policy = policy_for(request.kind)
    return (
        request.state == ApprovalRequest.State.PENDING
        and actor.has_perm(policy.permission)
        and actor.pk != request.requested_by_id
    )


DECISION_NOTE_MAX = change_reason_max_length(ApprovalRequest)


@transaction.atomic(durable=True)
def decide_approval(*, request_id: int, actor, approve: bool, note: str = "") -> ApprovalRequest:
    """Approve or reject a pending request.

    The approver holds the kind's permission and is not the requester; a rejection says
    why. The requesting app's callback runs in this transaction, so the decision and its
    effect (posting an adjustment, issuing a refund) commit together.
    """
    request = ApprovalRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise NotFound("No such approval request.")
    policy = policy_for(request.kind)
    require_permission(actor, policy.permission, action=f"decide {policy.label.lower()}")
    if actor.pk == request.requested_by_id:
        raise NotPermitted("You cannot approve or reject your own request.", code="own_request")
    if request.state != ApprovalRequest.State.PENDING:
        raise Conflict(
            f"This request is already {request.state}.", field="state", code="already_decided"
        )
    if not approve and not note.strip():
        raise ValidationFailed("Say why the request is rejected.", field="note", code="required")
    if len(note) > DECISION_NOTE_MAX:
        # The requesting app keeps the note as the subject's history change reason.
        raise ValidationFailed(
            f"Keep the note to {DECISION_NOTE_MAX} characters.", field="note", code="max_length"
        )
    request.state = ApprovalRequest.State.APPROVED if approve else ApprovalRequest.State.REJECTED
    request.decided_by, request.decided_at, request.decision_note = actor, timezone.now(), note
    request._history_user = actor
    request.save()
    registered = _kinds[request.kind]
    callback = registered.on_approved if approve else registered.on_rejected
    callback(request=request, actor=actor)
    return request


def cancel_approval(*, request: ApprovalRequest, actor, note: str = "") -> ApprovalRequest:
    """Withdraw a pending request (its subject was cancelled); caller holds the lock."""
    if request.state != ApprovalRequest.State.PENDING:
        raise Conflict(f"This request is already {request.state}.", field="state")
    request.state, request.decided_by = ApprovalRequest.State.CANCELLED, actor
    request.decided_at, request.decision_note = timezone.now(), note
    request._history_user = actor
    request.save()
    return request
