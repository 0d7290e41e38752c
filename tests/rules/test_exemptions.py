"""The exemption classifier reads tenants' messages as a person would."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.exemption_lexicon import CLASS_ORDER, DEFAULT_PHRASES
from rules.exemption_model import MAX_WORDS
from rules.exemption_text import plain_words, thread_of, tokens
from rules.exemptions import ExemptionClassifier, ExemptionMatch

# The phrases alone (the model, the second reader, has tests of its own).
DEFAULT = ExemptionClassifier.build(model=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # What the issue found held under no contact: each must now get through.
        ("can smell rotten eggs by the cooker", "emergency_repair"),
        ("boilers been off 3 days and ive a newborn", "emergency_repair"),
        ("water coming through the light fitting", "emergency_repair"),
        ("pipe burst under the sink cant turn it off", "emergency_repair"),
        ("the CO detector went off in the night", "emergency_repair"),
        ("front door lock hanging off, cant secure the flat", "emergency_repair"),
        ("thinking of ending it tbh", "safeguarding"),
        ("not seen the lady next door for days, post piling up", "safeguarding"),
        ("send me everything you hold about me", "subject_access_request"),
        ("I want to challenge the decision restricting my contact", "appeal"),
        ("I'm taking this to the ombudsman", "complaint"),
        ("Mae nwy yn gollwng yn y gegin", "emergency_repair"),
        # Shouted, misspelt, text-speak, Welsh with and without accents.
        ("GAS LEAK!!!", "emergency_repair"),
        ("I can’t turn the stopcock off", "emergency_repair"),
        ("the boilr is brokn no heat", "emergency_repair"),
        ("elecricity gone in the whole flat", "emergency_repair"),
        ("dim dŵr poeth o gwbl", "emergency_repair"),
        ("dim dwr poeth o gwbl", "emergency_repair"),
        ("ma'r gwifrau'n hongian allan o'r wal", "emergency_repair"),
        ("dwi di bod yn meddwl am ladd fy hun", "safeguarding"),
        ("He hit me last night and there is a leak", "safeguarding"),
        ("what info do u have on me? i want to see it all", "subject_access_request"),
        ("dwi isio apelio yn erbyn y cyfyngiad", "appeal"),
        ("Dwi am wneud cwyn ffurfiol", "complaint"),
        # Written after a split nobody had tuned on held them (dev9).
        ("dwi'n cuddio yn y bathrwm, mae o'n cicio'r drws", "safeguarding"),
        ("im sitting on the bridge. just wanted someone to know", "safeguarding"),
        ("plis gyrrwch y CCTV o'r maes parcio nos Sadwrn", "subject_access_request"),
        ("gallwch chi hala'r tap o'r alwad nes i ddydd Llun", "subject_access_request"),
        # Broadband ("band llydan") is not a housing band: an appeal about one.
        ("does na ddim band llydan yn fama. dwi isio apelio", "appeal"),
        # Near misses that must stay held.
        ("the smoke alarm test was fine", None),
        ("thanks for sorting the leak last year", None),
        ("there is no gas smell now, the engineer fixed it", None),
        ("it's an emergency, I need my parking permit", None),
        ("my PIP appeal is next week so I can't come in", None),
        ("I want to complain about next door leaving their bins out", None),
        ("could you update my data, I've changed my surname", None),
        ("diweddarwch fy nghofnodion plis, cyfenw newydd", None),
        ("the kids were killing themselves laughing at the new play area", None),
        ("I'm at risk of eviction because of the arrears", None),
        ("no complaints about the new boiler, thanks", None),
        ("I can't complain really, it's all fine", None),
        ("a small crack in the bathroom tiles, not leaking", None),
        ("the kitchen cupboard door is hanging off", None),
        ("the front door is hanging off its hinges", "emergency_repair"),
        ("Email only?? I haven't got internet. This needs looking at again", "appeal"),
        ("is there a fire drill for the block this month?", None),
        ("we looked at the door and it's fine", None),
        ("the gasket on the oven", None),
        ("", None),
    ],
)
def test_classes(text: str, expected: str | None) -> None:
    assert DEFAULT.classify(text) == expected


def test_a_match_names_its_words_and_phrase() -> None:
    found = DEFAULT.explain("There's a really strong smell of gas in the kitchen")
    assert found == ExemptionMatch("emergency_repair", "smell gas", "{gas} ~ {smell}")
    assert found.describe() == "the words 'smell gas' (phrase '{gas} ~ {smell}')"
    apart = DEFAULT.explain("gas in the hall and a horrible smell")
    assert apart is not None and apart.words == "gas … smell"


def test_safeguarding_is_seen_before_a_repair_in_the_same_message() -> None:
    assert CLASS_ORDER[0] == "safeguarding"
    assert DEFAULT.classify("water pouring through the ceiling and he hit me") == "safeguarding"


def test_the_quoted_part_of_a_reply_is_not_read() -> None:
    reply = (
        "ok thanks\n\nOn Tue, 3 Mar 2026, Housing Team wrote:\n"
        "> For an emergency repair, call 0800 000 000. To appeal, write to appeals@x.org.\n"
        "> There is a gas leak procedure.\n"
    )
    assert DEFAULT.classify(reply) is None
    assert DEFAULT.classify("> gas leak in the kitchen") == "emergency_repair"  # all quoted
    outlook = "fine\n-----Original Message-----\nFrom: x\nboiler broken no heating"
    assert DEFAULT.classify(outlook) is None
    assert DEFAULT.classify("Re: your complaint\nthanks, all sorted now") is None
    assert DEFAULT.classify("Re: hi\nthe ceiling has collapsed") == "emergency_repair"


_RESTRICTION_LETTER = (
    "\n-----Original Message-----\nFrom: Tenancy Services\nSent: 2 May\n"
    "Subject: Contact arrangements\n\nDear Mr Lewis,\nYour contact with us will be "
    "restricted to a single point of contact for 12 months."
)


@pytest.mark.parametrize(
    "reply",
    [
        # dev37's two appeals the classifier missed before its models were trained on them.
        "RE: Contact arrangements\nHi,\n\nI want to challenge this.\n\nThanks,\nAndre"
        + _RESTRICTION_LETTER,
        "Re: contact restriction\nI was told in the original letter that I could ask for a"
        " review. So I'm asking for a review.\n\n> We have considered your email.",
        "Re: hello\nI don't accept this at all" + _RESTRICTION_LETTER,  # the quoted letter
        "Re: Contact arrangements\nthis is not fair" + _RESTRICTION_LETTER,  # "not fair" stands
        "Ateb: Cyfyngiad ar gysylltu\nDwi ddim yn derbyn hyn.\n\n> Annwyl Mr Jones",
    ],
)
def test_a_reply_that_challenges_the_restriction_it_answers_is_an_appeal(reply: str) -> None:
    """The new text says "this"; what it replies to (the subject, the quoted letter) says
    what "this" is. Only the new text is read for everything else."""
    found = DEFAULT.explain(reply)
    assert found is not None and found.exempt_class == "appeal", found
    assert "in reply to:" in found.words
    new_text_alone = reply.partition("\n")[2].split("\n-----")[0].split("\n>")[0]
    assert DEFAULT.classify(new_text_alone) is None  # without the thread, nothing says so


@pytest.mark.parametrize(
    "reply",
    [
        "RE: Contact arrangements\nI'm not going to appeal this, I just want my repair done"
        + _RESTRICTION_LETTER,
        "Re: Repair arrangements\ncan we review the date please",  # not a restriction
        "RE: Contact arrangements\nok thanks, understood" + _RESTRICTION_LETTER,
        "Re: your restriction letter",  # a subject with no new text is not a reply
        "I want to challenge this",  # not a reply at all
        "Re: the new rules\nreview it?\n\n> about the bins",  # the thread names no restriction
        # Thanks for the outcome of an appeal, in reply to it (as dev9's in Welsh).
        "Re: Your appeal against the contact restriction\nThanks for reviewing it. When is"
        " the contractor coming?",
    ],
)
def test_a_reply_to_a_restriction_that_does_not_challenge_it_is_not_an_appeal(
    reply: str,
) -> None:
    assert DEFAULT.classify(reply) is None


def test_the_thread_of_a_reply_is_its_subject_and_its_quoted_part() -> None:
    assert thread_of("Re: Contact arrangements\nno thanks") == "Contact arrangements"
    assert thread_of("fine\n> quoted line") == "> quoted line"
    assert thread_of("> all of it quoted") == ""  # read whole as new text
    assert thread_of("a message with > in it") == ""
    assert thread_of("Re: subject only") == ""
    assert plain_words("Don't! Stop.\n> Cyswllt") == ["dont", "stop", "cyswllt"]
    # What the tokens tell of it: a reply has a thread to read (``thread_of`` not "").
    for text in (
        "Re: Contact arrangements\nno thanks",
        "fine\n> quoted line",
        "> all of it quoted",
        "a message with > in it",
        "Re: subject only",
        "just a message",
    ):
        assert tokens(text).reply is bool(thread_of(text)), text


def test_a_settled_matter_is_discounted_unless_it_is_back() -> None:
    assert DEFAULT.classify("the leak was fixed last week") is None
    assert DEFAULT.classify("the leak was fixed last week but its leaking again") == (
        "emergency_repair"
    )
    assert DEFAULT.classify("the leak was fixed but still leaking through the ceiling") == (
        "emergency_repair"
    )
    # A sentence of its own is not discounted by another's "fixed".
    assert DEFAULT.classify("You fixed the door. Now water pouring through the ceiling.") == (
        "emergency_repair"
    )


def test_a_repair_said_not_to_be_urgent_is_discounted_unless_it_is_a_danger_to_life() -> None:
    for downplayed in (
        "Im reporting a leak in the bin store roof, not urgent, just drips when it rains",
        "no hot water in the communal laundry, not urgent we can use block b",
        "ma'r gwres di torri yn y neuadd gymunedol, dim brys",
        "burst pipe in the street, water board are fixing it, not your problem",
    ):
        assert DEFAULT.classify(downplayed) is None, downplayed
    for danger in (
        "bit of a gas smell in the kitchen, not urgent",
        "smoke coming from the socket, no rush",
        "ogla nwy yn y gegin, dim brys",
    ):
        assert DEFAULT.classify(danger) == "emergency_repair", danger
    # Another sentence's "not urgent" is about something else.
    assert DEFAULT.classify("The fence is not urgent. Water pouring through the ceiling") == (
        "emergency_repair"
    )


def test_a_home_giving_way_is_an_emergency() -> None:
    for failing in (
        "the garden wall has cracked and is leaning over the path",
        "my nan put her foot through the kitchen floor, rotten boards",
        "the stairs are collapsing",
        "wal yr ardd di cracio ac yn pwyso dros y llwybr",
        "ffenest di disgyn allan o'r ffrâm ar y 4ydd llawr",
        "nain di rhoi ei throed drwy'r llawr yn y gegin",
        "nenfwd y gegin yn plygu",
    ):
        assert DEFAULT.classify(failing) == "emergency_repair", failing
    # A person's fall is not the building's.
    assert DEFAULT.classify("mum fell down the stairs last year, shes fine now") is None


def test_a_repair_supposed_rather_than_reported_is_discounted() -> None:
    for supposed in (
        "what should i do if i ever smell gas? just want the number on the fridge",
        "if the boiler ever broke over christmas whod i call",
        "hypothetically if i had a leak from upstairs whos responsible",
        "Petai'r lifft yn torri, be fysa'n digwydd i Mam?",
        "Os bydde'r boeler yn torri dros y Nadolig, fydde rhywun yn dod mas?",
        "Pe bai'r boeler yn torri dros y Nadolig, pwy fyswn i'n ffonio?",
        "Be ddylwn i neud os dwi'n clywed ogla nwy rywbryd?",
    ):
        assert DEFAULT.classify(supposed) is None, supposed
    for reported in (
        "my boiler broke, if it ever happens again i will scream",  # reported, then supposed
        "if you ever get this i smell gas",  # the "if" is about something else
        "if i ever smell gas i ring you but i can smell gas now",  # a sentence of its own
        "what do i do if i smell gas",  # no "ever": it may be now, so it goes through
        "I can smell gas",
    ):
        assert DEFAULT.classify(reported) == "emergency_repair", reported


def test_a_matter_said_to_be_over_after_but_is_discounted_unless_it_is_not() -> None:
    assert DEFAULT.classify("the lift was broken this morning but its working again now") is None
    assert DEFAULT.classify("smelled gas earlier but it was the hob, all fine") is None
    assert DEFAULT.classify("the lift was broken this morning but its still broken") == (
        "emergency_repair"
    )
    assert DEFAULT.classify("the lift is broken") == "emergency_repair"
    assert DEFAULT.classify("i can smell gas but i think its fine") == "emergency_repair"


def test_a_matter_over_before_but_and_back_after_it_is_not_discounted() -> None:
    # The phrase's words span the "but": what counts is the clause of its last word.
    assert DEFAULT.classify("the lift was working again but now its broken, mum is stuck") == (
        "emergency_repair"
    )
    assert DEFAULT.classify("the lift was broken this morning but its working again now") is None


def test_welsh_iawn_settles_a_matter_only_when_it_says_fine() -> None:
    assert DEFAULT.classify("ogla nwy gynna, mae'n iawn rwan") is None  # it's fine now
    assert DEFAULT.classify("gwynt nwy tu allan, cryf iawn") == "emergency_repair"  # very
    # "very" beside a word that does settle it: thanks very much for mending the boiler.
    assert DEFAULT.classify("diolch yn fawr iawn am drwsio'r boeler oedd wedi torri") is None
    assert DEFAULT.classify("mae'r boeler wedi torri, diolch yn fawr iawn") == "emergency_repair"


def test_an_appeal_against_the_form_or_length_of_a_restriction_is_one() -> None:
    for appeal in (
        "one email a week isnt enough when i have 3 repairs outstanding",
        "the weekly cap means I cant report 2 things in one week. lift it",
        "12 months is way too long for one bad phone call. reduce it",
        "12 mis yn llawer rhy hir am un alwad wael. torrwch o lawr",
        "un ebost yr wythnos ddim yn ddigon, ma isie newid y limit",
    ):
        assert DEFAULT.classify(appeal) == "appeal", appeal
    assert DEFAULT.classify("can i swap to a gas cooker? theres a capped pipe behind") is None


def test_an_appeal_the_tenant_will_not_make_is_not_one() -> None:
    assert DEFAULT.classify("I'm not going to appeal, I just want to move on") is None
    assert DEFAULT.classify("im not appealing") is None
    # The phrase's other words come first; the "not" is before the appeal's.
    assert DEFAULT.classify("the restriction on my contact, Im not going to appeal it") is None
    assert DEFAULT.classify("dwi ddim am apelio, jyst isio symud ymlaen") is None
    assert DEFAULT.classify("I want to appeal the restriction") == "appeal"
    assert DEFAULT.classify("why can I not appeal?") == "appeal"
    assert DEFAULT.classify("i dont want to appeal i want it lifted") == "appeal"
    assert DEFAULT.classify("alla i ddim apelio?") == "appeal"


def test_a_negated_repair_is_discounted() -> None:
    assert DEFAULT.classify("no gas smell at all") is None
    assert DEFAULT.classify("no heating at all") == "emergency_repair"  # the phrase has "no"


def test_fire_in_a_compound_is_not_a_fire() -> None:
    assert DEFAULT.classify("the sign on the fire door is missing") is None
    assert DEFAULT.classify("rhaglen am ddiogelwch tân") is None
    assert DEFAULT.classify("there's a fire in the bin store") == "emergency_repair"


def test_an_appeal_about_a_benefit_is_not_an_appeal_against_a_restriction() -> None:
    assert DEFAULT.classify("my universal credit appeal was turned down") is None
    assert DEFAULT.classify("I appeal against the ban, and my PIP too") == "appeal"


def test_a_request_to_change_data_is_not_a_request_for_it() -> None:
    assert DEFAULT.classify("please correct my details") is None
    assert DEFAULT.classify("please correct my data and send me a copy of my file") == (
        "subject_access_request"
    )


def test_a_complaint_made_without_the_word_is_one() -> None:
    for complaint in (
        "shocking service from your staff, nobody ever rings back",
        "promised a call back from a manager 3 weeks ago. still waiting. unacceptable",
        "absolutely fuming, the workmen broke my fence and left it",
        "three appointments missed, i took time off each time. i want compensation",
        "im going to escalate this, the answer was rubbish",
        "not happy with the outcome of the investigation",
        "gwasanaeth gwarthus gan y staff, neb yn ateb",
        "addewid o alwad gan reolwr. dim byd. annerbyniol",
        "tri apwyntiad wedi'u colli, dwi isio iawndal",
        "who is responsible for this mess?? scaffolding up 4 months and no work done",
        "i want my money back for the cleaning that never happens",
        "dwi di aros 3 mis, gwarthus",
        "sa chi'n gallu deud wrtha i pwy sy'n gyfrifol am y llanast efo'r sgaffaldiau?",
        "talu tal gwasanaeth am lanhau sy ddim yn digwydd? isio arian nol",
        "your staff member hung up on me halfway through a sentence",
        "nath hi roi'r ffon lawr arna i ganol brawddeg",
        "absolutely disgraceful. 6 weeks with a tarp on the roof and nobody can tell me",
        "how is it acceptable that a family with a newborn has waited 5 months for a window",
        "you said the roof would be done by march. its july. i want an explanation",
        "the hall hasnt been cleaned in 2 months but we pay the service charge. i want a refund",
        "i was promised a goodwill payment in august and still nothing",
        "third time the plumber hasnt turned up",
        "sut ma'n cymryd 8 wythnos i newid bylb? cywilydd",
        "diolch am ddim byd. eto. 8 mis o lwydni",
        "cais am ad-daliad plis am y ffi ffob drws",
        "fi moyn i rywun ymddiheuro am y ffordd ges i fy nhrin",
        "dim un llythyr yn gymraeg er mod i di gofyn 3 gwaith",
    ):
        assert DEFAULT.classify(complaint) == "complaint", complaint
    for ordinary in (
        "got the cheque for the compensation, thank you",
        "the new boiler is great, the workmen were lovely",
        "ges i'r iawndal, diolch yn fawr",
        "I want to apologise for the emails I sent last Friday",
        "Dwi moyn ymddiheuro am yr e-byst hales i ddydd Gwener",
        "I got a text saying I'm owed a rent refund, is it from you?",
    ):
        assert DEFAULT.classify(ordinary) is None, ordinary


def test_a_complaint_supposed_is_not_one() -> None:
    assert (
        DEFAULT.classify("hypothetically if someone wanted to complain, is it in writing") is None
    )
    assert (
        DEFAULT.classify("petai rhywun isio gwneud cwyn, ydi o'n gorfod bod yn ysgrifenedig?")
        is None
    )
    assert DEFAULT.classify("dwi isio gwneud cwyn am y gwasanaeth") == "complaint"
    assert DEFAULT.classify("if you ever do this again I will complain to the ombudsman") == (
        "complaint"
    )


def test_a_complaint_about_a_neighbour_is_one_about_the_landlord_when_it_says_so() -> None:
    assert DEFAULT.classify("complaint about the neighbours' dog") is None
    assert DEFAULT.classify("complaint about the neighbours, your staff ignored me") == (
        "complaint"
    )


def test_a_real_word_is_not_a_slip() -> None:
    assert DEFAULT.classify("please treat this as a priority") is None  # not "threat"
    assert DEFAULT.classify("there was a threat to burn the flat") == "safeguarding"


def test_slips_are_remembered_within_a_bounded_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    classifier = ExemptionClassifier.build(model=False)
    seen, slipped = classifier._memo
    assert classifier.classify("the elecricity has gone wibbly") == "emergency_repair"
    assert "elecricity" in slipped and seen["elecricity"] == slipped["elecricity"]
    assert seen["wibbly"] == frozenset()  # met, and no slip
    monkeypatch.setattr("rules.exemptions._MEMO_LIMIT", 2)
    assert classifier.classify("zzzzzz yyyyyy xxxxxx") is None
    seen, slipped = classifier._memo
    assert slipped == {} and set(seen) - classifier.vocabulary() == {"zzzzzz", "yyyyyy", "xxxxxx"}
    assert classifier.vocabulary() <= seen.keys()  # the phrase forms are kept
    assert classifier.classify("the elecricity has gone") == "emergency_repair"  # again


def test_short_answers_are_remembered_within_a_bounded_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    classifier = ExemptionClassifier.build(model=False)
    first = classifier.explain("gas leak in the hall")
    assert classifier._answers == {"gas leak in the hall": first}
    assert classifier.explain("gas leak in the hall") is first  # answered from memory
    monkeypatch.setattr("rules.exemptions._ANSWERS_LIMIT", 1)
    assert classifier.explain("hello") is None
    assert classifier._answers == {"hello": None}
    long_text = "the rent is paid. " * 20
    assert classifier.explain(long_text) is None and long_text not in classifier._answers


def test_the_words_phrases_are_written_with() -> None:
    assert {"boiler", "nwy", "gas"} <= DEFAULT.base_words()
    assert {"boilers", "nwy", "nhrydan"} <= DEFAULT.vocabulary()
    assert "boilers" not in DEFAULT.base_words()


def test_configured_phrases_are_used() -> None:
    phrases = {name: dict(by_lang) for name, by_lang in DEFAULT_PHRASES.items()}
    phrases["emergency_repair"] = {"en": ("stairlift stuck",)}
    classifier = ExemptionClassifier.build(phrases, model=False)
    assert classifier.classify("the stairlift is stuck again") == "emergency_repair"
    assert classifier.classify("gas leak") is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gets_one_answer(text: str) -> None:
    """Total and deterministic: never raises, and the same text, the same answer."""
    first = DEFAULT.explain(text)
    assert first == DEFAULT.explain(text)
    assert first is None or first.exempt_class in CLASS_ORDER


def test_a_slip_fills_every_phrase_it_is_tried_in() -> None:
    """A settled matter written with slips: the heating phrases are tried one after
    another, each with the same slipped words, and all are discounted."""
    assert DEFAULT.classify("the boilr was serviced and tested fine, heatng is brokn") is None
    assert DEFAULT.classify("heatng is brokn") == "emergency_repair"


def test_words_already_placed_are_not_placed_again() -> None:
    from rules.exemptions import _Where

    gas, smell = frozenset({"@gas"}), frozenset({"@smell"})
    words_of = {gas: frozenset({"gas", "nwy"}), smell: frozenset({"smell"})}
    where = _Where(["gas", "smell", "gas", "nwy"], words_of)
    where.place({"gas"})
    assert where.of(gas) == [0, 2]  # only the words asked for are placed
    where.place({"gas", "nwy"})
    where.place({"nwy"})
    assert where.of(gas) == [0, 2, 3]  # asked again: placed once, merged
    assert where.of(smell) == []


def test_fine_said_of_others_or_anymore_after_a_loss_does_not_settle_a_repair() -> None:
    assert DEFAULT.classify("power's gone just in my flat, the neighbours are fine") == (
        "emergency_repair"
    )
    assert DEFAULT.classify("power's gone in the flat, it's fine now") is None
    assert DEFAULT.classify("the lock is bent and the door won't lock anymore") == (
        "emergency_repair"
    )
    assert DEFAULT.classify("the pipe is not leaking anymore") is None


def test_cooking_settles_an_alarm_but_never_sparks() -> None:
    assert DEFAULT.classify("the smoke alarm goes off every time I make toast") is None
    assert DEFAULT.classify("larwm mwg yn canu bob tro dwi'n gneud tost") is None
    assert DEFAULT.classify("sparks came out the wall when I plugged the kettle in") == (
        "emergency_repair"
    )
    assert DEFAULT.classify("been boiling kettles to wash the kids, no hot water at all") == (
        "emergency_repair"
    )


def test_killing_me_is_an_idiom_and_kill_me_a_threat() -> None:
    assert DEFAULT.classify("this rent increase is killing me honestly") is None
    assert DEFAULT.classify("he said he'd kill me if I called the police") == "safeguarding"


def test_welsh_diwedd_alone_is_not_putting_an_end_to_it() -> None:
    assert DEFAULT.classify("y bobl drws nesa di symud allan o'r diwedd, diolch") is None
    assert DEFAULT.classify("dwi'n meddwl am roi diwedd ar y cwbl") == "safeguarding"
    assert DEFAULT.classify("neithiwr mi eisteddais i ar y bont yn meddwl am neidio") == (
        "safeguarding"
    )


def test_a_withdrawn_complaint_is_not_one_and_no_apology_is_no_negation() -> None:
    assert DEFAULT.classify("I withdrew my complaint last month, please close it") is None
    assert DEFAULT.classify("complaint withdrawn, thanks for sorting it") is None
    assert DEFAULT.classify("I want to complain, you withdrew my housing offer") == "complaint"
    assert DEFAULT.classify("I want to make a complaint about the repairs team") == "complaint"
    # "dim ymddiheuriad" (no apology) is a grievance, not "no complaint".
    assert DEFAULT.classify("dim galwad, dim ymddiheuriad. Fi moyn i reolwr ffonio fi") == (
        "complaint"
    )
    assert DEFAULT.classify("dim cwyn, jyst diolch") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Found by this round's development splits in words no phrase foresaw.
        ("lift jammed on 8 with the doors half open and my husband in it", "emergency_repair"),
        ("lifft Llys Gwynedd di sticio a ma dwy hogan ysgol tu mewn", "emergency_repair"),
        ("mae dŵr du yn tywallt allan o'r rheiddiadur", "emergency_repair"),
        ("rheilen y balconi'n rhydd yn llwyr, 7fed llawr", "emergency_repair"),
        ("i'm on the bridge by the retail park. i just wanted someone to know", "safeguarding"),
        ("Dwi'm yn saff yn y tŷ ma. Oes gynnoch chi rif i lochesi?", "safeguarding"),
        ("weles i ŵr y fenyw yn rhif 8 yn yr ardd gyda'i wn saethu", "safeguarding"),
        (
            "could I please have the transcript of the webchat I had with your team",
            ("subject_access_request"),
        ),
        ("Fysa modd newid y telerau i gyda'r nos neu e-bost?", "appeal"),
        ("Annwyl Brif Weithredwr, dwi wedi dihysbyddu pob sianel arall", "complaint"),
        (
            "the hall carpet is ruined after 4 months of waiting, pay for a new one",
            ("complaint"),
        ),
        # ... and their near misses.
        ("Daeargi bach o'r lloches, ga i ei chadw hi?", None),
    ],
)
def test_this_rounds_phrases(text: str, expected: str | None) -> None:
    assert DEFAULT.classify(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I don't want to make a complaint, honestly, I just want someone to finish the tiles",
        "dwi ddim isio cwyno, jyst i chi wybod ma'r golau ar yr ail lawr wedi mynd",
        "pls dont log this as a complaint its just a question about my brown bin",
        "plis canslwch fy nghwyn, ma bob dim di cael ei sortio rŵan",
        "Dwi isio tynnu'n ôl y gŵyn nes i wythnos dwetha am y ffens",
        "I've complained to BT about the wasted appointment, could you send me permission",
        "Hi its Mrs Jones at 14 Heol Gwyn, can the repairs team call me",
        "my mum keeps complaining the bus stop moved, does anyone know why?",
    ],
)
def test_a_complaint_declined_taken_back_made_elsewhere_or_a_street_name_is_not_one(
    text: str,
) -> None:
    assert DEFAULT.classify(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "I don't want to complain but this is the third time nobody turned up",
        "I don't want this complaint ignored again",
        "I complained to BT and to your repairs manager, nobody cares",
        "I complained to the office about the bus shelter you put up and nothing happened",
        "disgraceful, still nobody has come, I had to get the bus to your office",
        "Ges i ddim ateb i'r gŵyn am y to",
        "Dw i'n disgwyl i chi dalu am y carped, mae o wedi ei ddifetha gan eich plymer",
    ],
)
def test_a_complaint_with_a_but_a_landlord_or_after_y_still_is_one(text: str) -> None:
    assert DEFAULT.classify(text) == "complaint"


@pytest.mark.parametrize(
    "text",
    [
        "lads next door keep kicking a ball against my wall all evening, so annoying",
        "miwsig o fflat 6 tan 3 y bore eto, allwch chi yrru llythyr atyn nhw",
        "Plant drws nesa'n cicio pêl yn erbyn wal y tŷ tan 9 bob nos",
        "Mae plant drws nesa wedi torri'r ffens eto, pwy sy'n ei thrwsio?",
        "the weathers been shocking this week, can the gutter clearing wait till its dry",
        "Ma 'na lygod yn y sied, di gweld baw. Chi sy'n talu am rywun neu fi?",
        "golau tu allan yn dod mlaen ganol dydd, synhwyrydd di drysu dwi'n meddwl",
        "Mae'n bygwth glaw eto, ydy'r peintwyr dal yn dod fory?",
    ],
)
def test_next_door_until_shocking_dirt_coming_on_and_rain_are_not_emergencies(text: str) -> None:
    assert DEFAULT.classify(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "mae dŵr yn dod drwy'r nenfwd",
        "mae nwy yn dod o'r popty",
        "mwg yn dod mewn o dan y drws",
        "ma baw yn dod i fyny'r toiled a'r draen",
        "the boiler's been on all day and we've all got headaches and feel dizzy",
        "dwi'n teimlo'n benysgafn bob tro dwi'n rhoi'r boeler ymlaen",
        "the front door was kicked in last night, it won't shut",
        "ma'r tân yn y gegin!",
    ],
)
def test_coming_water_gas_and_smoke_sewage_and_carbon_monoxide_signs_get_through(
    text: str,
) -> None:
    assert DEFAULT.classify(text) == "emergency_repair"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Dissatisfaction is a complaint however it is said.
        ("honestly the worst housing association ive ever been with", "complaint"),
        ("NOT happy with what the contractor has done to my garden", "complaint"),
        ("how many times do I have to ring about the same leak", "complaint"),
        ("that surveyor was the rudest man ive met", "complaint"),
        ("gobsmacked at how I was spoken to at the office today", "complaint"),
        ("been on hold 58 minutes again, this is no way to run a service", "complaint"),
        ("no one ever rings back and no one ever turns up", "complaint"),
        ("Ill be contacting the papers if this isnt sorted, 3 years of damp", "complaint"),
        ("Not good enough. I reported the window in August and nobody came", "complaint"),
        # Found by this round's development splits in words no phrase foresaw.
        ("no ones seen Pat at 41 since before Christmas, her TV is on", "safeguarding"),
        ("a bloke is on the wrong side of the balcony railing on the 7th floor", "safeguarding"),
        ("Dim golau ers 4 diwrnod a mae'r llefrith dal ar y stepan", "safeguarding"),
        ("larwm carbon monocsid yn canu a ma pen tost ofnadwy arna i", "emergency_repair"),
        ("one of the steps on the communal stairs has snapped right through", "emergency_repair"),
        ("front door has just a hole where the lock used to be, cant lock it", "emergency_repair"),
        ("the main entrance door isn't latching anymore, it just drifts open", "emergency_repair"),
        ("chimney leaning a lot more after the wind, bricks in the garden", "emergency_repair"),
        ("the bedroom window blew in during the storm, glass everywhere", "emergency_repair"),
        ("Ma ffenest y llofft di chwythu allan yn y gwynt, jyst twll rwan", "emergency_repair"),
        ("the light switch gave my son a shock this morning, hes fine", "emergency_repair"),
    ],
)
def test_this_rounds_new_phrases(text: str, expected: str) -> None:
    assert DEFAULT.classify(text) == expected


def test_a_photo_not_good_enough_and_toast_setting_off_an_alarm_are_not_exempt() -> None:
    assert DEFAULT.classify("the photo I sent wasn't good enough, here's a better one") is None
    assert DEFAULT.classify("larwm mwg yn canu bob tro dwi'n gwneud tost") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Found by the round's later development splits (dev24 to dev26).
        (
            "I'd like the name of the head of housing, I've had enough of being fobbed off",
            "complaint",
        ),
        ("Wyth mis ers i chi addo ffens newydd. Wyth mis.", "complaint"),
        (
            "rent 2 days late and you text me but my boiler's waited 7 weeks, sort ur priorities",
            "complaint",
        ),
        ("Ma Nain di anghofio bwyta ers dyddia", "safeguarding"),
        ("Grisie concrit i'r fflatie wedi cracio ar draws a stepen wedi suddo", "emergency_repair"),
        (
            "ma'r gwres heb ddod mlaen ers ddoe a dwi'n 84, dwi'n iawn fwy neu lai",
            "emergency_repair",
        ),
        ("Carped y pasej yn wlyb a ma'r gola'n diferu", "emergency_repair"),
        ("meter cupboard is smoking. real smoke. im outside", "emergency_repair"),
        ("sŵn fel rhywun yn ffrio bacwn tu ôl i'r soced", "emergency_repair"),
        ("ma'r plwg yn neud pop a sbarcio bob tro", "emergency_repair"),
        ("the light switch in the hall gave me a belt when i touched it", "emergency_repair"),
    ],
)
def test_the_rounds_later_phrases(text: str, expected: str) -> None:
    assert DEFAULT.classify(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # Dissatisfaction with the landlord's response, staff or contractors
        # (dev16, read with models trained on the other splits).
        "hollol siomedig efo'r ymateb i'n llythyr diwetha",
        "Dwi wedi fy siomi gan y contractwr eto",
        "y boi nath y check nwy wedi gadael mwd trwy'r ty a'r carped newydd. disgwyl gwell",
        "Dwi di gofyn 3 gwaith am lythyrau mewn print bras. Ydi hi'n ormod i ofyn?",
        "Third time asking for large print letters. Is it too much to ask?",
    ],
)
def test_disappointment_with_the_landlord_is_a_complaint(text: str) -> None:
    assert DEFAULT.classify(text) == "complaint"


def test_welsh_fine_said_of_a_thing_settles_and_of_a_person_does_not() -> None:
    assert DEFAULT.classify("ma'r gwres heb weithio ddoe ond mae'n iawn rwan") is None
    assert DEFAULT.classify("ma'r gwres wedi torri, dwi'n iawn ond ma'r babi'n oer") == (
        "emergency_repair"
    )


@pytest.mark.parametrize(
    "text",
    [
        # Development messages the phrases missed, read with models trained on the
        # other splits.
        "ma'r tân nwy yn y parlwr yn neud swn popian a fflam felen. ofn ei ddefnyddio",
        "the gas fire burns with yellow flames now",
        "balconi'n siglo pan ti'n sefyll arno fo, crac newydd yn y concrit",
        "the balcony is wobbling when you step on it",
        "sinc a'r gawod yn llenwi efo dŵr sy'n drewi o garthffos bob tro dwi'n fflysho",
        "dŵr budr brown yn byrlymu fyny o'r draen yn y cwrt",
        # Paint is not settled: "a bubble in the paint full of water".
        "the bedroom ceiling has gone soft and there's a big bubble in the paint full of water",
        # "wasn't there last week": new, not over.
        "there's a big crack in the ceiling that wasn't there last week, with a dip in it",
    ],
)
def test_signs_of_danger_found_in_the_development_splits(text: str) -> None:
    assert DEFAULT.classify(text) == "emergency_repair"


def test_a_crack_there_last_week_too_is_still_settled_by_last_week() -> None:
    assert DEFAULT.classify("the crack in the ceiling with a dip, the one from last week") is None


def test_a_complaint_to_the_post_office_is_made_elsewhere() -> None:
    assert DEFAULT.classify("fi'n mynd i gwyno wrth y Post. Ta beth, ma'r rhent wedi mynd") is None
    assert DEFAULT.classify("I'm going to complain to the post office about the queue") is None
    # Named with the landlord's service, it is one.
    assert DEFAULT.classify("I'll complain to the post office about your repairs service") == (
        "complaint"
    )


@pytest.mark.parametrize(
    "text",
    [
        # Safeguarding concerns of the development splits that only the model's floor
        # caught (dev3, dev11, dev22).
        "mi ddeudodd un ohonyn nhw bod y bos 'di cadw'u pasbortau",
        "the gaffer has kept their passports since they came",
        "oes gennych chi wybodaeth am loches? i fi. methu ffonio",
        "os na chi'n clywed wrtha i erbyn dydd Llun, ma'r allwedd gyda Mrs Lewis rhif 8",
        # dev32, read once before anything was written from it: a joke that is not one,
        # and a farewell in a letter about bingo.
        "haha if u find me hanging from the loft hatch youll know the repairs didnt come",
        "I've been giving my bits away to the girls at bingo",
        "I've made my peace with everything now so don't worry about my rent",
    ],
)
def test_concerns_only_the_floor_caught(text: str) -> None:
    assert DEFAULT.classify(text) == "safeguarding"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # dev30 and dev31, read once before anything was written from them.
        ("There's a faint hissing from the ring and a smell I don't like", "emergency_repair"),
        ("the switch is cracked and it threw her back, her arm went numb", "emergency_repair"),
        ("the socket in the hall is hot to the touch", "emergency_repair"),
        ("my grans gas fire has black marks all up the wall above it", "emergency_repair"),
        ("ma'r gwres a'r dwr twym di mynd ers ddoe a ma hi'n rhewi", "emergency_repair"),
        ("You said the surveyor would ring me in 48 hours. Im sick of being lied to", "complaint"),
        ("Passed between 4 departments about the same shower. Someone take ownership", "complaint"),
        ("Oes rhywun yn darllen y negeseuon hyn o gwbl? Dyma'r 5ed am y drws cefn", "complaint"),
        ("Dal dim byd. Wsnos arall di mynd. Diolch am ddim", "complaint"),
    ],
)
def test_the_rounds_last_phrases(text: str, expected: str) -> None:
    assert DEFAULT.classify(text) == expected


def test_a_switch_for_the_hot_water_is_not_a_hot_switch() -> None:
    # (A switch "hot to the touch" is a fire risk; "hot" said of the water is not.)
    assert DEFAULT.classify("can you move the immersion switch next to the hot tap") is None


@pytest.mark.parametrize(
    "text",
    [
        # dev33 and dev34, read once before anything was written from them: veiled
        # farewells, someone at home who reads everything, children on their own.
        "please dont write to the flat, he opens everything that comes",
        "Final text from me. Thank you all",
        "tell Mo I won't be making anything anymore, he'll understand",
        "I've given the cat to my sister today, she'll love her",
        "the old man at 5 hasn't answered since friday and his bins are still out",
        "her curtains haven't moved since monday and shes 91",
        "the twins downstairs have been on their own since last night",
        "there's older men picking the lad up in a car every night",
        "Diolch am bob dim. Ma'r gath gyda Nia",
        "diolch am bopeth dros y blynyddoedd. sori",
        "fydda i ddim yma i weld y to newydd",
        "ddeudodd o ei fod o'n gorffen pethau heno",
        "ma fe'n darllen y negeseuon i gyd, tecstiwch",
        "fe sy'n agor y post i gyd, plis ebostiwch fi",
        "peidiwch deud wrtho fo mod i di cysylltu",
    ],
)
def test_this_rounds_safeguarding_phrases(text: str) -> None:
    assert DEFAULT.classify(text) == "safeguarding"


@pytest.mark.parametrize(
    "text",
    [
        # A happy move's thanks, with keys and a new house; a pet minded for a holiday.
        "Symud i'r tŷ newydd fory! Diolch am bob dim, goriadau i'r swyddfa dydd Llun",
        "diolch am bopeth, dwi di cael y fflat yn Llandudno",
        "fydda i ddim yma dydd Llun, dewch dydd Mawrth plis",
    ],
)
def test_a_happy_move_and_a_day_away_stay_held(text: str) -> None:
    assert DEFAULT.classify(text) is None


def test_not_answering_since_is_someone_not_the_landlord() -> None:
    assert DEFAULT.classify("my dad hasnt answered since sunday, hes 80") == "safeguarding"
    assert DEFAULT.classify("I've emailed twice and you haven't answered since monday") is None
    assert DEFAULT.classify("fydda i ddim yma dros y Dolig, dewch ym mis Ionawr") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # dev35, read once before anything was written from it: a Welsh wall crack that
        # widens by the morning, and compensation asked for rather than wanted.
        (
            "Rhent\nDwi di talu'r rhent. Hefyd mae'r crac yn wal y gegin yn lletach bob bore. "
            "Diolch, Mair",
            "emergency_repair",
        ),
        (
            "the plumber left the stopcock open and ruined the carpet, I'm asking for compensation",
            "complaint",
        ),
    ],
)
def test_dev35_phrases(text: str, expected: str) -> None:
    assert DEFAULT.classify(text) == expected


# A letter of over 120 words, which the trained models do not read (a bag of words over
# a long letter sees a little of everything): there only the phrases find a concern.
_LETTER = (
    "Dear housing team, I am writing about several things at once to save you time. "
    "The gutter at the back is still overflowing when it "
    "rains and the water runs down the wall by the back door. The fence panel between us "
    "and number 12 blew down in the storm and is lying in the garden. The bins were not "
    "collected on Tuesday again. The light in the communal hallway flickers at night. "
    "The parking bay lines outside the block have worn away and people park across two "
    "spaces. The grass on the green has not been cut since the spring and it is knee high. "
    "{} The kitchen drawer still sticks and the bathroom extractor fan is noisy. Please "
    "can someone look at all of this when they next come out to the estate, and let me "
    "know the date by email so I can make sure I am in. Thank you, Jo Evans, 3 Maes y Dref"
)


@pytest.mark.parametrize(
    "sentence",
    [
        # Written from the development reads' missed concerns (34 splits, each read by
        # models trained on the others): hopelessness, an abuser released or smashing the
        # phone, leaving no mess for anyone, asking what happens when a tenant dies.
        "Nothing matters anymore really.",
        "I've had enough of life.",
        "It doesnt matter now, nothing does.",
        "Honestly, whats the point of any of it.",
        "My ex gets out of prison next week so please keep my address off everything.",
        "He smashed my phone again so please only write.",
        "Dwi ddim isio gadael llanast i neb.",
        "Be sy'n digwydd os oes tenant yn marw heb deulu?",
    ],
)
def test_concerns_written_into_a_long_letter(sentence: str) -> None:
    letter = _LETTER.format(sentence)
    assert len([w for w in tokens(letter).words if w != "|"]) > MAX_WORDS
    assert DEFAULT.classify(letter) == "safeguarding"
    assert DEFAULT.classify(_LETTER.format("")) is None
