"""What a note needs before it may be signed: a plain function over the form's values and
the couple's current risks, tested without a request.

A signed note is the record. It must not say "no current risk" by default or by a slip:
the risk level is chosen by the therapist, signing asks for a confirmation, and "no
current risk" while a partner's risk is open or acknowledged (not resolved) needs the
therapist's written reason, which is signed and printed with the note.
"""

from __future__ import annotations

NO_RISK = "none"


def signing_problems(
    *, risk_level: str | None, none_reason: str, confirmed: bool, current_risks: int
) -> dict[str, str]:
    """Field name -> what is missing before this note may be signed (empty: it may)."""
    problems = {}
    if not risk_level:
        problems["risk_level"] = "Please record the risk level before signing."
    elif risk_level == NO_RISK and current_risks and not none_reason.strip():
        problems["risk_none_reason"] = (
            "A risk is open or acknowledged for this couple: to sign “No current risk "
            "identified”, write why you judge there is no current risk (or choose a level)."
        )
    if not confirmed:
        problems["confirm_sign"] = "Please tick the box to confirm you are signing this note."
    return problems
