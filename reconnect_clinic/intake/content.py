"""What the intake asks, page by page, written for the partner who reads it.

The pages are data: the forms, the scoring and the therapist's view are all built from
the specs here, so a question is defined in exactly one place. Sign and cause items come
from the taxonomy; measure items from ``reconnect_clinic.measures``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from .. import measures
from ..taxonomy import Concern, Taxonomy

QuestionKind = Literal["radio", "text", "textarea", "checkbox"]

FREQUENCY_CHOICES: tuple[tuple[str, str], ...] = (
    ("0", "Never"),
    ("1", "Rarely"),
    ("2", "Sometimes"),
    ("3", "Often"),
    ("4", "Almost always"),
)
FREQUENCY_MAX = 4

SAFETY_NO, SAFETY_YES, SAFETY_DISCUSS = "no", "yes", "discuss"
SAFETY_CHOICES: tuple[tuple[str, str], ...] = (
    (SAFETY_NO, "No"),
    (SAFETY_YES, "Yes"),
    (SAFETY_DISCUSS, "I would rather talk about this in person"),
)

FREE_TEXT_MAX = 4000


@dataclass(frozen=True, slots=True)
class Question:
    """One question on a page. ``name`` is the form field and the key it is stored under."""

    name: str
    label: str
    kind: QuestionKind
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = True
    hint: str = ""
    section: str = ""  # a heading shown above the first question of each section
    section_intro: str = ""
    max_length: int = FREE_TEXT_MAX
    item_id: str = ""  # the taxonomy item or "<instrument>:<number>" this answers


@dataclass(frozen=True, slots=True)
class IntakePageSpec:
    slug: str
    title: str
    intro: str
    questions: tuple[Question, ...]
    private: bool = False  # said on the page: answers here never reach the other partner
    # Saved answers are kept but never shown back on the partner's side (safe on a shared
    # device): the page comes back unanswered, and a blank answer keeps the saved one.
    write_only: bool = False
    # Listed in the partner's own copy of their answers (the thank-you page).
    recap: bool = True
    # The heading the therapist's views use, when the page's own title is deliberately
    # neutral for the partner.
    staff_title: str = ""

    @property
    def therapist_title(self) -> str:
        return self.staff_title or self.title

    def question(self, name: str) -> Question:
        for question in self.questions:
            if question.name == name:
                return question
        raise KeyError(f"page {self.slug!r} has no question {name!r}")


def field_name_for_item(item_id: str) -> str:
    """Item ids contain dots; form fields get a name that is safe in HTML ids and CSS."""
    return item_id.replace(".", "__")


def measure_field(instrument_slug: str, number: int) -> str:
    return f"{instrument_slug}_{number}"


_ABOUT = IntakePageSpec(
    slug="about",
    title="About you and your relationship",
    intro="A few questions to help your therapist understand your situation. Your "
    "answers are saved each time you move to another page, so you can stop and come "
    "back later with the same link.",
    questions=(
        Question(
            "relationship_length",
            "How long have you been together?",
            "radio",
            (
                ("under_1", "Less than a year"),
                ("1_3", "1 to 3 years"),
                ("4_10", "4 to 10 years"),
                ("11_20", "11 to 20 years"),
                ("over_20", "More than 20 years"),
            ),
        ),
        Question(
            "living_together",
            "Do you live together?",
            "radio",
            (("yes", "Yes"), ("partly", "Part of the time"), ("no", "No")),
        ),
        Question(
            "children",
            "Do you have children?",
            "radio",
            (
                ("none", "No"),
                ("at_home", "Yes, living with us"),
                ("elsewhere", "Yes, grown up or living elsewhere"),
                ("both", "Some at home and some elsewhere"),
            ),
        ),
        Question(
            "earlier_therapy",
            "Have you had counselling or therapy before?",
            "radio",
            (
                ("none", "No"),
                ("couples", "Couples therapy"),
                ("individual", "Individual therapy"),
                ("both", "Both"),
            ),
        ),
        Question(
            "reasons",
            "What brings you to couples therapy now?",
            "textarea",
            required=False,
            hint="In your own words. Write as much or as little as you like.",
        ),
        Question(
            "hopes",
            "What would you most like to change?",
            "textarea",
            required=False,
        ),
    ),
)

_CONSENT = IntakePageSpec(
    slug="consent",
    title="Consent and signature",
    intro="Please read the practice's consent below. Typing your name counts as your "
    "signature. Your therapist can see the answers you save along the way; once you "
    "submit, they can no longer be changed through this link.",
    questions=(
        Question(
            "agree",
            "I have read this and I agree",
            "checkbox",
        ),
        Question(
            "signature",
            "Type your full name as your signature",
            "text",
            max_length=200,
        ),
    ),
)

# The safety screen: in the project's own words, not a validated instrument, covering
# what brief validated screens for intimate partner violence ask (fear; insults and
# screaming; control; threats; physical harm; strangulation on its own; sexual coercion;
# weapons), over a stated timeframe, and privately the partner's own use of force. Answers
# "yes" to strangulation or a weapon raise the level of the risk (reconnect_clinic.risk).
# Names are stored with the answers: keep them, add new ones.
_PAST_YEAR = "In the past 12 months, "
_SAFETY = IntakePageSpec(
    slug="safety",
    # Neutral on purpose: the title is in the tab, the step list and the history of a
    # browser someone else may look at.
    title="A few more questions",
    staff_title="Safety (private)",
    intro="These questions are about the past 12 months. Your answers on this page are "
    "private: your therapist sees them; your partner never does, in any form. Many people "
    "answer no to all of them, and that is fine. If any are true for you, your therapist "
    "will want to help you plan for your safety, at your pace.",
    private=True,
    write_only=True,
    recap=False,
    questions=(
        Question(
            "safety_afraid",
            _PAST_YEAR + "have you felt afraid of your partner?",
            "radio",
            SAFETY_CHOICES,
        ),
        Question(
            "safety_insulted",
            _PAST_YEAR + "has your partner often insulted you, put you down, or screamed or "
            "sworn at you?",
            "radio",
            SAFETY_CHOICES,
        ),
        Question(
            "safety_controlled",
            _PAST_YEAR + "has your partner controlled where you go, who you see, your phone "
            "or your money in a way that frightens or limits you?",
            "radio",
            SAFETY_CHOICES,
        ),
        Question(
            "safety_threatened",
            _PAST_YEAR + "has your partner threatened to hurt you, your children or your "
            "pets, or to harm themselves?",
            "radio",
            SAFETY_CHOICES,
        ),
        Question(
            "safety_hurt",
            _PAST_YEAR + "has your partner hit, slapped, kicked, pushed or otherwise "
            "physically hurt you?",
            "radio",
            SAFETY_CHOICES,
        ),
        Question(
            "safety_strangled",
            _PAST_YEAR + "has your partner choked or strangled you, or pressed on your neck "
            "or throat, even once or briefly?",
            "radio",
            SAFETY_CHOICES,
        ),
        Question(
            "safety_sexual",
            _PAST_YEAR + "has your partner pressured or forced you into sexual activity you "
            "did not want?",
            "radio",
            SAFETY_CHOICES,
        ),
        Question(
            "safety_weapon",
            _PAST_YEAR + "has your partner threatened you with a knife, gun or other weapon, "
            "or do they have a weapon you are afraid they could use against you?",
            "radio",
            SAFETY_CHOICES,
        ),
        Question(
            "safety_own_force",
            _PAST_YEAR + "have you pushed, hit or physically hurt your partner, or threatened to?",
            "radio",
            SAFETY_CHOICES,
            hint="Many people in couples therapy have done this at some point. Your honest "
            "answer stays private and helps your therapist plan therapy that is safe for "
            "both of you.",
        ),
        Question(
            "safety_note",
            "Is there anything you want your therapist to know privately?",
            "textarea",
            required=False,
        ),
    ),
)

SAFETY_QUESTIONS = tuple(q.name for q in _SAFETY.questions if q.kind == "radio")


def _concern_page(
    slug: str, title: str, intro: str, concerns: tuple[Concern, ...]
) -> IntakePageSpec:
    return IntakePageSpec(
        slug=slug,
        title=title,
        intro=intro,
        questions=tuple(
            Question(
                field_name_for_item(item.id),
                item.text,
                "radio",
                FREQUENCY_CHOICES,
                item_id=item.id,
            )
            for concern in concerns
            for item in concern.items
        ),
    )


def _measure_questions(instrument_slug: str) -> tuple[Question, ...]:
    instrument = measures.get(instrument_slug)
    return tuple(
        Question(
            measure_field(instrument.slug, item.number),
            item.text,
            "radio",
            tuple((str(option.points), option.label) for option in item.options),
            section=instrument.title if item.number == 1 else "",
            section_intro=instrument.instructions if item.number == 1 else "",
            item_id=f"{instrument.slug}:{item.number}",
        )
        for item in instrument.items
    )


_PAGES: dict[tuple[str, bool], tuple[IntakePageSpec, ...]] = {}

# The consent page when the practice puts it first (RECONNECT_CLINIC_CONSENT_FIRST): the
# partner signs before answering, and submits on the last page.
_CONSENT_FIRST = replace(
    _CONSENT,
    intro="Before you begin, please read the practice's consent below. Typing your name "
    "counts as your signature. Your therapist can see the answers you save along the way; "
    "once you submit them on the last page, they can no longer be changed through this link.",
)


def pages_for(
    taxonomy: Taxonomy, *, consent_first: bool | None = None
) -> tuple[IntakePageSpec, ...]:
    """The intake's pages in order, for ``taxonomy`` (built once per taxonomy version).

    The consent page comes last, or first when ``consent_first``; left as None, that is
    the current app's ``RECONNECT_CLINIC_CONSENT_FIRST`` (False outside an app), so every
    caller sees the same order without passing it along.
    """
    first = consent_first_configured() if consent_first is None else consent_first
    key = (taxonomy.version, first)
    pages = _PAGES.get(key)
    if pages is None:
        built = _build_pages(taxonomy)
        if first:
            built = (_CONSENT_FIRST, *(page for page in built if page.slug != _CONSENT.slug))
        pages = _PAGES[key] = built
    return pages


def consent_first_configured() -> bool:
    """Whether the current app puts the consent page first."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return False
    return bool(current_app.config.get("RECONNECT_CLINIC_CONSENT_FIRST", False))


def _build_pages(taxonomy: Taxonomy) -> tuple[IntakePageSpec, ...]:
    return (
        _ABOUT,
        _concern_page(
            "signs",
            "How things are between you",
            "How often is each of these true for you lately, say over the past month? "
            "There are no right or wrong answers; answer for yourself, not for your partner.",
            taxonomy.signs,
        ),
        _concern_page(
            "background",
            "What may be behind it",
            "How often is each of these true for you? These help your therapist understand "
            "what shapes closeness for each of you.",
            taxonomy.causes,
        ),
        IntakePageSpec(
            slug="relationship",
            title="Your relationship overall",
            intro="A widely used questionnaire about how satisfied you feel with your "
            "relationship.",
            questions=_measure_questions("csi16"),
        ),
        IntakePageSpec(
            slug="wellbeing",
            title="How you have been feeling",
            intro="Two short, widely used questionnaires about mood and worry over the last "
            "two weeks.",
            questions=_measure_questions("phq9") + _measure_questions("gad7"),
            recap=False,  # PHQ-9 item 9 asks about self-harm: not for a shared screen
        ),
        _SAFETY,
        _CONSENT,
    )


def page_slugs(taxonomy: Taxonomy) -> tuple[str, ...]:
    return tuple(page.slug for page in pages_for(taxonomy))


def page_spec(taxonomy: Taxonomy, slug: str) -> IntakePageSpec:
    for page in pages_for(taxonomy):
        if page.slug == slug:
            return page
    raise KeyError(slug)
