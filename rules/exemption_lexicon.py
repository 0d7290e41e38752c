"""The default phrases and word lists, English and Welsh (see rules.exemption_patterns).

Written from what tenants actually write (tests/corpus/exemptions holds the examples it
was checked against): plain words, misspellings a slip does not cover ("gass" is one
letter from "gas" but too short to be fuzzed), text-speak, and Welsh as spoken, with the
mutations added by rules.exemption_words. Word lists hold single words; phrases join
them. An organisation adds to and removes from the phrases (rules.exemption_config).
"""

from __future__ import annotations

from collections.abc import Mapping

from rules.protected import ExemptClass

LANGUAGES = ("en", "cy")
CLASS_ORDER = tuple(c.value for c in ExemptClass)


def _w(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Word lists: {name: {language: words}}. Welsh words are written without accents.
CONCEPTS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    # --- repairs -------------------------------------------------------------------
    "gas": {"en": _w("gas gass gaz gasses"), "cy": _w("nwy")},
    "smell": {
        "en": _w(
            "smell smel smelt smells stink stinks stinking stench whiff niff odour odor "
            "reek reeks reeking hiss hissing leak leek escape escaping fumes"
        ),
        "cy": _w("arogl arogli ogla oglau drewi drewllyd gollwng hisian gwynt drewdod"),
    },
    "eggs": {"en": _w("egg eggs eggy sulphur sulfur"), "cy": _w("wyau wy")},
    "rotten": {"en": _w("rotten rotting bad off"), "cy": _w("drwg pwdr")},
    "co": {"en": _w("co monoxide carbon"), "cy": _w("monocsid carbon")},
    "alarm": {
        "en": _w("alarm alarms detector detecter sensor alarum"),
        "cy": _w("larwm larymau synhwyrydd"),
    },
    "sounding": {
        "en": _w(
            "beeping beep beeps bleeping going went gone sounding ringing screaming "
            "flashing shrieking sounded triggered"
        ),
        "cy": _w("canu bipian seinio swnio mynd"),
    },
    "water": {"en": _w("water watter warer wter h2o"), "cy": _w("dwr dwrr")},
    "flowing": {
        "en": _w(
            "pouring pour pours gushing gush pissing streaming spraying spurting "
            "flooding flooded cascading bursting pooling everywhere"
        ),
        "cy": _w("arllwys llifo llif gorlifo pistyllio ymhobman tywallt"),
    },
    "seeping": {
        "en": _w("coming dripping leaking leak leek running seeping trickling soaking"),
        "cy": _w("gollwng diferu rhedeg"),
    },
    "through": {
        "en": _w("through thru threw trough into down from out under"),
        "cy": _w("drwy trwy lawr allan"),
    },
    "fitting": {
        "en": _w(
            "light lights lite fitting fittings socket sockets switch electrics wiring "
            "wires fusebox fuse spotlights"
        ),
        "cy": _w("golau gola goleuadau soced socedi ffiws gwifrau"),
    },
    "overhead": {
        "en": _w("ceiling celing cieling ceilling roof loft upstairs above"),
        "cy": _w("nenfwd llofft"),
    },
    "pipe": {
        "en": _w("pipe pipes piping pipework tank cylinder tap radiator"),
        "cy": _w("peipen peip pibell pibellau tanc tap"),
    },
    "burst": {
        "en": _w("burst bust busted split cracked snapped broke broken exploded"),
        "cy": _w("byrstio torri hollti"),
    },
    "leak": {"en": _w("leak leek leaking leaks"), "cy": _w("gollwng gollyngiad")},
    "wet_place": {
        "en": _w(
            "ceiling roof light sink bath toilet loo boiler tank cylinder pipe upstairs "
            "everywhere through floor kitchen bathroom wall socket stopcock radiator"
        ),
        "cy": _w("nenfwd golau sinc bath toiled boeler tanc peipen llawr wal"),
    },
    "stop": {"en": _w("stop turn off shut"), "cy": _w("stopio diffodd cau")},
    "stopcock": {"en": _w("stopcock stoptap stopcok valve"), "cy": _w("stopcock")},
    "cannot": {
        "en": _w("cant cannot couldnt wont unable carnt cnt"),
        "cy": _w("methu fedra fedrai gallu"),
    },
    "sewage": {
        "en": _w("sewage sewer sewerage poo poop faeces feces excrement turds"),
        "cy": _w("carthion carthffosiaeth carthffos garthffos"),
    },
    "toilet": {"en": _w("toilet loo toilets drains drain"), "cy": _w("toiled ty bach draen")},
    "overflow": {
        "en": _w("overflowing overflow overflowed backing coming spilling"),
        "cy": _w("gorlifo gorlif"),
    },
    "heating": {
        "en": _w(
            "heating heat heater heaters boiler boilr boiller boyler combi radiators "
            "radiator rads storage warmth"
        ),
        "cy": _w("gwres gwresogi boeler bwyler rheiddiaduron rheiddiadur twymo"),
    },
    "hot_water": {"en": _w("hot water shower"), "cy": _w("poeth cawod")},
    "broken": {
        "en": _w(
            "broken broke brokn bust busted dead packed conked failed failing stopped "
            "kaput smashed snapped faulty"
        ),
        "cy": _w("torri marw nam ffaelu stopio"),
    },
    "off": {
        "en": _w("off cold freezing frozen down tripped tripping nothing error gone"),
        "cy": _w("oer rhewi rhewllyd"),
    },
    "not": {
        "en": _w(
            "no not isnt aint wont doesnt dont didnt cant never without nt havent hasnt "
            "hadnt wasnt werent"
        ),
        "cy": _w("dim ddim heb nid"),
    },
    "working": {
        "en": _w("working work works workin come coming firing fire ignite on"),
        "cy": _w("gweithio cynnau"),
    },
    "spark": {
        "en": _w("sparks sparking sparked spark sparky arcing"),
        "cy": _w("gwreichion gwreichioni gwreichionen sbarcio sbarc sbarcs"),
    },
    "burning": {
        "en": _w("burning burnt burned scorched melting melted smouldering"),
        "cy": _w("llosgi llosg"),
    },
    "electric": {
        "en": _w(
            "electric electrics electricity elec electrical power lecky leccy socket "
            "sockets plug wiring wires wire fusebox fuse consumer lights"
        ),
        "cy": _w("trydan soced socedi gwifrau gwifren ffiws pwer golau goleuadau"),
    },
    "exposed": {
        "en": _w("exposed bare live hanging loose dangling sticking"),
        "cy": _w("noeth byw hongian rhydd"),
    },
    "shock": {"en": _w("shock shocked electrocuted zapped"), "cy": _w("sioc")},
    "fire": {"en": _w("fire fyre flames flame blaze ablaze alight"), "cy": _w("tan fflamau fflam")},
    "smoke": {"en": _w("smoke smoking smokey smoky"), "cy": _w("mwg mygu")},
    "ceiling": {
        "en": _w(
            "ceiling celing cieling ceilling plaster plasterboard roof wall walls chimney "
            "bricks brick brickwork concrete masonry render balcony lump chunk"
        ),
        "cy": _w("nenfwd wal waliau simdde plastr"),
    },
    "collapse": {
        "en": _w(
            "collapse collapsed collapsing caved fallen fell falling bulging sagging "
            "bowing crumbling subsiding"
        ),
        "cy": _w("cwympo disgyn syrthio dymchwel chwalu"),
    },
    "door": {
        "en": _w("door doors lock locks latch window windows frame"),
        "cy": _w("drws drysau clo ffenest ffenestr ffenestri"),
    },
    "secure": {"en": _w("secure lock shut close latch"), "cy": _w("cloi cau")},
    "damaged": {
        "en": _w("smash kick force hanging snap split broken broke bust busted swings"),
        "cy": _w("malu chwalu torri"),
    },
    "intruder": {
        "en": _w("burgled burglary burglars intruder intruders"),
        "cy": _w("lladron lleidr bwrgleriaeth"),
    },
    "lift": {"en": _w("lift lifts elevator"), "cy": _w("lifft")},
    "stuck": {"en": _w("stuck trapped jammed"), "cy": _w("sownd sticio styc")},
    # --- safeguarding ---------------------------------------------------------------
    "kill": {
        "en": _w("kill killing end ending hurt hurting harm harming cut cutting"),
        "cy": _w("lladd brifo niweidio anafu torri"),
    },
    "myself": {"en": _w("myself meself mysef myslf"), "cy": _w("hun hunan")},
    "die": {"en": _w("die dead dying"), "cy": _w("marw")},
    "alive": {"en": _w("live living alive here"), "cy": _w("byw")},
    "cope": {"en": _w("cope coping carry"), "cy": _w("ymdopi")},
    "partner": {
        "en": _w(
            "he she him partner ex boyfriend girlfriend husband wife hubby bf son "
            "daughter dad father stepdad brother hes shes hell hed"
        ),
        "cy": _w("gwr gwraig cariad partner mab merch tad brawd"),
    },
    "hit": {
        "en": _w(
            "hit hits hitting hitted punch punched punches beat beats beating beaten "
            "kicked strangled strangling choked choking slapped slaps pushed shoved "
            "grabbed attacked assaulted battered thumped headbutted throttled raped"
        ),
        "cy": _w("taro curo bwrw cicio tagu ymosod gwthio"),
    },
    "me": {"en": _w("me us mum mam"), "cy": _w("fi i mi")},
    "scared": {
        "en": _w("scared frightened afraid terrified petrified fear scaring"),
        "cy": _w("ofn ofnus ofni"),
    },
    "threat": {
        "en": _w("threatened threatening threaten threats threat"),
        "cy": _w("bygwth bygythiad bygythiol"),
    },
    "child": {
        "en": _w(
            "child children kid kids kiddies baby babies toddler toddlers boy girl "
            "boys girls kiddie little ones son daughter"
        ),
        "cy": _w("plentyn plant babi babis bachgen merch hogyn hogan hogia"),
    },
    "alone": {"en": _w("alone unsupervised themselves"), "cy": _w("ben")},
    "neglect": {
        "en": _w(
            "neglected neglect neglecting starving hungry unfed filthy bruises bruised "
            "bruising malnourished"
        ),
        "cy": _w("esgeuluso llwglyd newynog cleisiau"),
    },
    "cutting": {"en": _w("cutting cut slashing"), "cy": _w("torri")},
    "thinking": {"en": _w("think thinking thought thoughts thinks"), "cy": _w("meddwl")},
    "let": {"en": _w("let letting allow allowing"), "cy": _w("gadael")},
    "seen": {"en": _w("seen saw seeing heard"), "cy": _w("gweld clywed")},
    "neighbour": {
        "en": _w(
            "neighbour neighbor neighbours neighbors lady man gentleman woman fella "
            "bloke nan grandad nextdoor upstairs downstairs chap occupants"
        ),
        "cy": _w("cymydog cymdoges cymdogion ddyn dynes hen nesa nesaf"),
    },
    "next_door": {
        "en": _w(
            "neighbour neighbor neighbours neighbors nextdoor next upstairs downstairs occupants "
            "noise music dog dogs barking parties above below"
        ),
        "cy": _w("cymydog cymdoges cymdogion nesa nesaf swn miwsig cerddoriaeth cyfarth parti"),
    },
    "tenancy_risk": {
        "en": _w(
            "eviction evicted evict arrears homeless homelessness losing lose court "
            "possession rent tenancy debt debts"
        ),
        "cy": _w("troi colli ol-ddyledion dyled digartref llys rhent"),
    },
    "laughing": {"en": _w("laughing laugh laughter"), "cy": _w("chwerthin")},
    "door_compound": {
        "en": _w("cupboard wardrobe cabinet unit oven fridge freezer shower next"),
        "cy": _w("cwpwrdd cwpwrdd dillad popty oergell"),
    },
    # A complaint taken back: "I withdrew my complaint, please close it", "canslwch fy
    # nghwyn". (Welsh "tynnu ... yn ôl" is not one word, and "tynnu" alone is drawing
    # attention, taking photos: rules.exemptions reads it with its "yn ôl".)
    "withdrawn": {
        "en": _w("withdraw withdrew withdrawn withdrawing"),
        "cy": _w("canslo canslwch"),
    },
    # Who else a tenant complains to ("I've complained to BT", "cwyno wrth y feddygfa"):
    # not a complaint about the landlord, unless the landlord is named too.
    "elsewhere": {
        "en": _w(
            "bt dvla gp surgery doctors hospital nhs school bus police dwp hmrc bank "
            "broadband openreach virgin sky vodafone airline shop supermarket takeaway post"
        ),
        "cy": _w("siop ysgol meddygfa meddyg bws heddlu ysbyty banc post"),
    },
    "amend": {
        "en": _w("update updated change changed correct corrected amend amended spelling"),
        "cy": _w("diweddaru diweddarwch newid newidiwch cywiro cywirwch"),
    },
    "days": {"en": _w("days weeks week ages while"), "cy": _w("dyddiau diwrnodau wythnos")},
    "piling": {
        "en": _w("piling pilling building stacking stacked piled mounting"),
        "cy": _w("pentyrru casglu hel"),
    },
    "post": {"en": _w("post mail letters milk curtains blinds"), "cy": _w("post llythyrau llenni")},
    "worried": {
        "en": _w("worried worry worrying concerned concern scared"),
        "cy": _w("poeni pryderus pryder"),
    },
    "exploit": {
        "en": _w(
            "cuckooing cuckoo exploiting exploited exploitation grooming groomed "
            "trafficked trafficking dealers"
        ),
        "cy": _w("camfanteisio manteisio"),
    },
    "weapon": {"en": _w("knife knives gun machete stab stabbed stabbing"), "cy": _w("cyllell gwn")},
    "danger": {"en": _w("danger dangerous unsafe risk harm"), "cy": _w("perygl peryglus")},
    "safe": {"en": _w("safe"), "cy": _w("ddiogel diogel")},
    # --- data, appeals, complaints ----------------------------------------------------
    "records": {
        "en": _w(
            "records record file files data information info notes documents "
            "correspondence recordings"
        ),
        "cy": _w("cofnodion cofnod ffeil data gwybodaeth nodiadau manylion dogfennau popeth"),
    },
    "hold": {
        "en": _w("hold have keep kept store stored holding got"),
        "cy": _w("gennych cadw dal"),
    },
    "about_me": {"en": _w("me myself mine"), "cy": _w("amdanaf amdana fi")},
    "copy": {"en": _w("copy copies access request"), "cy": _w("copi copiau cais")},
    "appeal": {"en": _w("appeal appealing appealed apeal apeel"), "cy": _w("apel apelio")},
    "restriction": {
        "en": _w(
            "restriction restrictions restricted restricting restrict ban banned banning barred "
            "arrangement arrangements"
        ),
        "cy": _w("cyfyngiad cyfyngiadau cyfyngu gwahardd gwaharddiad"),
    },
    "challenge": {
        "en": _w(
            "challenge challenging contest contesting dispute disputing overturn "
            "reconsider review reviewed lift lifted remove removed reverse"
        ),
        "cy": _w("herio adolygu adolygiad ailystyried codi dileu gwrthdroi"),
    },
    "unfair": {
        "en": _w(
            "unfair unjust wrong disproportionate ridiculous outrageous discriminatory "
            "unjustified unreasonable excessive harsh"
        ),
        "cy": _w("annheg anghyfiawn anghywir"),
    },
    "change": {
        "en": _w(
            "change changed swap swapped remove removed withdraw withdrawn end ended off "
            "lift lifted review reviewed reconsider looked again fair unfair wrong "
            "accept accepting challenge dispute strict altered amended reduced cut shorten "
            "shortened shorter reduce"
        ),
        "cy": _w("newid tynnu codi dileu adolygu ailystyried annheg anghywir"),
    },
    "complaint": {
        "en": _w("complaint complaints complain complaining complained complant"),
        "cy": _w("cwyn cwynion cwyno"),
    },
    "ombudsman": {
        "en": _w("ombudsman ombudsmen ombudsperson ombudman lgsco"),
        "cy": _w("ombwdsmon ombwdsman"),
    },
    # --- context cues (see rules.exemptions: what discounts a match) -------------------
    "negator": {
        "en": _w("no not never isnt wasnt arent dont doesnt didnt nothing nobody"),
        "cy": _w("dim"),
    },
    "settled": {
        "en": _w(
            "fixed sorted repaired resolved mended replaced dried drying year years "
            "test tested testing check checked serviced service inspection certificate "
            "passed fine used anymore previous previously drill "
            "reported planned bleeding bled wonky squeak squeaks squeaky gate stain "
            "stains painted painting decorate decorator redecorate "
            "january february march april june july august september october "
            "november december jan feb mar apr jun jul aug sept oct nov dec documentary "
            "programme newsletter training"
        ),
        "cy": _w("trwsio trwsiwyd llynedd prawf archwiliad gwasanaeth iawn ddoe sych"),
    },
    # What sets an alarm off harmlessly ("the smoke alarm goes off every time I make
    # toast"): an alarm's match is settled by it, as by a settled word; a spark is not
    # ("sparks came out the wall when I plugged the kettle in").
    "cooking": {
        "en": _w("cooking cook toast toaster bacon steam shower kettle"),
        "cy": _w("tost coginio stem"),
    },
    # Meaning to: "not going to appeal" ("dwi ddim am apelio" is read in rules.exemptions).
    "intent": {
        "en": _w("going gonna planning intend intending"),
        "cy": _w("bwriadu"),
    },
    "live_now": {
        "en": _w("still since started currently tonight worse another"),
        "cy": _w("dal ers heno gwaeth"),
    },
    "fire_compound": {
        "en": _w(
            "door doors safety alarm alarms exit escape drill extinguisher extinguishers "
            "blanket brigade service risk assessment regulations officer works fighter "
            "fighters station precautions"
        ),
        "cy": _w("diogelwch larwm dihangfa drws drysau asesiad risg"),
    },
    "other_appeal": {
        "en": _w(
            "pip benefit benefits dwp tribunal universal credit esa council tax parking "
            "ticket fine pcn exam school planning christmas charity food bank exchange mutual "
            "banding register"
        ),
        "cy": _w("budd budd-dal tribiwnlys parcio ysgol treth elusen"),
    },
    "landlord": {
        "en": _w(
            "staff officer officers service landlord manager management handling handled "
            "dealt ignored ignoring response repairs contractor contractors workman rude"
        ),
        "cy": _w(
            "staff swyddog gwasanaeth landlord rheolwr anwybyddu ymateb contractwr contractwyr "
            "gweithwyr"
        ),
    },
    "escalation": {"en": _w("formal stage escalate ombudsman mp councillor"), "cy": _w("ffurfiol")},
    # How tenants say a complaint without the word: "shocking service", "gwasanaeth gwarthus".
    "outrage": {
        "en": _w(
            "disgrace disgraceful shocking appalling unacceptable atrocious useless pathetic "
            "incompetent disgusted fuming diabolical disappointed shambles shameful gobsmacked"
        ),
        "cy": _w(
            "gwarthus annerbyniol cywilyddus cywilydd anobeithiol gwael ofnadwy siomedig siomi"
        ),
    },
}

# Words so common that a phrase is not looked for around them (rules.exemptions picks
# each phrase's rarest slot to start from).
COMMON_WORDS = frozenset(
    """
    i me my you your he she him her it its we us our they them their this that what
    who to of in on at for from by with as about into out up down off over under
    and or but if so no not dont cant wont isnt all any some there here now then
    be is are was were have has had do does did get got go going come coming can could
    would should will just like one two time day days week back again still very
    mum dad please thanks help hi hello dear
    a fi mi chi ni nhw o yn y yr ar am i gyda mae dwi ddim dim heb ond na
    """.split()  # noqa: SIM905 (a list of words, as data)
)

# Phrases about risk in general: "at risk of eviction" is not a safeguarding matter.
GENERIC_RISK = frozenset({"in {danger}", "at risk", "mewn {danger}"})

# A repair or a complaint supposed, not happening: "what do I do if I ever smell gas",
# "hypothetically if I had a leak", "petai'r lifft yn torri" (if the lift were to break),
# "os dwi'n clywed ogla nwy rywbryd" (if I smell gas sometime), "petai rhywun isio gwneud
# cwyn" (if someone wanted to complain). A word that supposes on its own, before the
# phrase in its clause; or "if"/"os" before the phrase with a word that makes it a
# supposition after it ("ever", "rywbryd"); or "pe"/"os" followed by a conditional verb.
SUPPOSING_WORDS = frozenset(
    {
        "hypothetically",
        "hypothetical",
        "theoretically",
        "petai",
        "petae",
        "pebai",
        "tasa",
        "tase",
        "tasai",
        "taswn",
        "tasen",
    }
)
IF_WORDS = frozenset({"if", "os"})
EVER_WORDS = frozenset({"ever", "rywbryd", "rhywbryd"})
CONDITIONAL_VERBS = frozenset(
    {
        "bai",
        "bawn",
        "bydde",
        "byddai",
        "basai",
        "basa",
        "bysa",
        "bysai",
        "fydde",
        "fyddai",
        "fasai",
        "fasa",
        "fysa",
        "fysai",
    }
)

# The writer says the repair is not an emergency, or not the landlord's: "a leak in the
# bin store roof, not urgent", "burst pipe in the street, not your problem", "heb wres,
# dim byd i neud efo chi". They discount a repair in the same clause, but never a danger
# to life (``DANGER_CONCEPTS``): a tenant who says "not urgent" about a gas smell is
# wrong, and it goes through.
DOWNPLAYING = (
    "not urgent",
    "non urgent",
    "nonurgent",
    "no rush",
    "no hurry",
    "not an emergency",
    "not dangerous",
    "nothing dangerous",
    "not your problem",
    "nothing to do with you",
    "dim brys",
    "dim byd brys",
    "ddim yn fater brys",
    "ddim yn argyfwng",
    "dim argyfwng",
    "ddim yn beryglus",
    "dim byd peryglus",
    "dim byd i neud efo chi",
    "dim byd i wneud efo chi",
    "dim byd i wneud a chi",
    "dim byd i neud gyda chi",
)
DANGER_CONCEPTS = frozenset({"gas", "co", "fire", "smoke", "spark", "burning", "exposed"})

# Pairs of words that say a matter is over, as a "settled" word does.
SETTLED_PAIRS = frozenset(
    {
        ("last", "week"),
        ("last", "year"),
        ("last", "month"),
        ("working", "again"),
        ("last", "winter"),
        ("wythnos", "diwethaf"),
        ("wythnos", "dwytha"),
        ("all", "fine"),
        ("fine", "now"),
        ("ok", "now"),
        ("okay", "now"),
        ("gweithio", "eto"),
    }
)

# Phrases per class and language.
DEFAULT_PHRASES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "safeguarding": {
        "en": (
            "safeguarding concern|issue|referral|matter|risk|team",
            "welfare check|concern",
            "concern|concerned|worried for ~ welfare|safety",
            "check on her|him|them",
            # farewells, plans and hopelessness
            "scratch|scratching|burn|burning|cut|cutting|hit|hitting|punch|bang|banging ~ my ~ "
            "arms|legs|wrists|skin|head|thighs",
            "till|until they ~ bleed",
            "relapsed|relapse",
            "blades|razor ~ found|arms|pencil|room|hiding",
            "arms ~ all cut|cuts",
            "make myself sick",
            "{not} eaten ~ weeks|days|properly",
            "feel|feeling|felt|so|just|totally|completely numb",
            "nothing left",
            "done with ~ it all|everything|life",
            "{cannot} see ~ way out",
            "{not} wake up",
            "bridge|railway|train|tracks|motorway ~ "
            "standing|nearly|thinking|walking|stand|sitting|sat",
            "hear from me ~ again|anymore",
            "tenancy ~ someone who|someone else|new tenant",
            "love you ~ all|sorry|goodbye",
            "look after ~ dog|cat|kids|children|mali ~ for me",
            "thank you for everything ~~ goodbye",
            "putting up with me",
            "rehomed",
            "rent|bills ~ paid|cleared ~~ cat|dog|pets|hens|goodbye",
            "{not} seen ~ kids|children ~ months|weeks",
            "boyfriend ~ 22|21|20|19|older ~~ 12|13|14|15|school",
            "burning|burn|scratching|scratch ~ myself ~ again|lighter|legs|arms",
            "pension|card|benefits ~~ grandson|nephew|beer|took|takes",
            "knows|know where ~ i|she|he|we ~ am|is|live|lives|are",
            "turned up ~ work|school|play|everywhere|door",
            "engine ~ running|on ~~ garage|car|door",
            "do me|her|him in",
            "{not} be here ~ by|christmas|much|anymore|weekend",
            "razor|blade|blades ~~ blood|bathroom|cutting|arms",
            "locked ~ herself|himself ~ room|bedroom|bathroom",
            "voice|voices ~ telling|hurt|kill|harm",
            "bins ~ food ~ kids|children|{child}",
            "split lip",
            "{cannot} ~ love ~ her|him|baby",
            "stopped coming ~ knocked|coffee|club|church",
            "done|made|written|wrote|finished will",
            "done|made|written|wrote|finished my will",
            "{partner} ~ goes through|reads|checks ~ phone|messages",
            "he|she ~ will|ll ~ see it|go mad|kill",
            "walked into ~ door|cupboard ~ {not}|didnt",
            "tripping|tripped|fell ~ into|honestly ~ door|hole",
            "hands ~ round|around ~ neck|throat",
            "nearly|almost passed out",
            "out of custody|on bail",
            "{hit} ~ face|head|eye|neck|nose|stairwell",
            "lock|locks|locked|bolt ~ outside ~ door|room|bedroom",
            "needles ~ garden|kids|children|syringes",
            "parents|mum|dad ~ on something",
            "found ~ girl|boy|child|kid ~ stairwell|street|nightie|night|alone",
            "men in cars",
            "girl|daughter|niece|son|nephew ~~ 12|13|14|15 ~~ "
            "men|boyfriend|older|cash|vapes|dropped",
            "van ~ picks|collects|takes ~ men|them|girls",
            "men living ~ flat|house",
            "never see them leave",
            "carers|carer ~ {not}|nobody|one ~ come|turned|been|visited",
            "sending|sent|sends ~ money ~ online|met|soldier|boyfriend",
            "voices ~ telling|saying|keep|head",
            "poisoning ~ me|water|food",
            "{not} slept ~ days|nights|five|four|three",
            "mum|mums|dad|dads|brother|sister|son|daughter ~ {not} answering",
            "{not} ~ problem|bother|burden|trouble ~ longer|anymore|again|after",
            "{not} have to ~ longer|anymore|again",
            "{not} be around ~ much|longer|anymore|use",
            "{cannot} do this anymore|any",
            "written|wrote|made ~ my will",
            "goodbye letter|letters",
            "letter ~ table|daughter|son|kids|family",
            "funeral",
            "final message|text from me",
            "wont|not be making anything",
            "gave|given ~ dog|cat|budgie ~ neighbour|sister|mum|niece|friend",
            "giving|gave|given ~ things|stuff|belongings|bits ~ away",
            "made|making my peace",
            "find|found me ~ hanging|dead",
            "{thinking} ~ jumping|jump|balcony|bridge",
            "balcony|bridge|roof|edge|multistorey|storey ~ think|thinking|jump|jumping",
            "everything|everythings|life ~ pointless",
            "tired ~ everything|living|life",
            "{not} care ~ anymore|anything|whether",
            "everyone|everybody ~ better off",
            "storing|saving|stockpiling ~ pills|tablets|meds|medication",
            "all ~ meds|tablets|pills ~ at once",
            "planning ~ how|to do it",
            "police ~ break|door",
            "scars ~ arms|worse",
            # control, threats and harm at home
            "{partner} ~ reads|checks|monitors ~ messages|phone|texts",
            # "pls dont ring the landline or send anything in the post. he reads everything"
            "he|she|partner|hes|shes ~ opens|reads ~ everything|post|letters",
            "reads my messages|texts",
            "bruise|bruises ~ face|arms|neck|eye|wasnt|door|lied",
            "bruise|bruises|bruising|eye ~ {partner}|explain|walked|fell",
            "locked me out",
            "screaming ~ thrown|throwing|smashing|things|quiet",
            "{worried} ~ happen|happened|fall|fallen|collapsed|died|dead",
            "flinch|flinched|flinches",
            "{not} {let} her|him ~ come|see|talk|phone",
            "passport ~ took|taken|takes|keeps",
            "muck|mess|excrement|poo ~ letterbox|door",
            "go home ~ shouted|wrote|painted|graffiti|door",
            "swastika|nazi",
            "scam|scammed|scammer|scammers",
            "gave|given|told ~ card|bank|pin|account ~ number|details|him|them|man|caller",
            "loans|loan ~ her|him|out ~ boyfriend|man|online|him",
            # children and young people
            "{child} ~~ out ~ night|morning|overnight|late|midnight|1am|2am|3am",
            "{child} ~~ drunk|high|unconscious|wasted",
            "passed out ~~ baby|kids|{child}",
            "staying|stays ~ out overnight",
            "{child} ~~ crying|screaming ~ hours|nonstop|all night",
            "giving|buying|offering ~~ {child}|girl|boy|kids|them ~~ "
            "sweets|vapes|phone|money|lifts|gifts|alcohol|drink|cigarettes",
            "photos|pictures ~ kids|children|child|girls|boys",
            "new ~ phone|money|trainers|clothes|gifts ~ {not} say",
            "new ~ phone|money|trainers|clothes|gifts ~ where from",
            "locked in ~ room|bedroom|cupboard",
            "let us out",
            "{child} ~ left|leave|leaves ~ alone|babysit|pram|hallway|car|own",
            "babysit ~ baby|{child}|mum|out",
            "out drinking ~~ kids|baby|{child}",
            # adults at risk
            "milk|curtains|blinds ~ {days}|shut|closed|drawn",
            "curtains ~ since",
            # Someone not answering since a day; never "you haven't answered since monday".
            "he|she|hes|shes|dad|mum|{neighbour} ~ {not} answered|answering ~ since",
            "had a fall",
            "nobody|noone|one ~ answering|answered|answers ~ door|knock|knocking|flat|{days}",
            "asking where ~ husband|wife|mum|dad",
            "nightie|nightdress|pyjamas ~ out|street|night|3am|2am|1am",
            "{not} .. {safe}",
            "stopped eating",
            "muddled",
            "he|she|hes|shes|they ~ has|got ~ nobody",
            "no one to ~ look|help",
            "lost|losing weight",
            "begging ~ stop|toilet|help|let",
            "leaves|left ~ her|him ~ chair|bed|night",
            # self-harm and suicide, said and unsaid
            "{kill} {myself}",
            "{kill} herself|himself|themselves|yourself",
            "kill you|her|him|us|me",
            "took|taken|swallowed|take ~ tablets|pills|paracetamol|overdose",
            "tablets|pills ~ saved|stockpiled|ready|collecting|hoarded|hoarding",
            "{cutting} again|myself|arms|wrists|legs|herself|himself",
            "self harming|harmed",
            "{thinking} ~ dying|death|suicide",
            "{thinking} ~ ending ~ it|things|everything|life",
            "{not} be here|around ~ much|longer|anymore",
            "{not} have to deal with me",
            "my goodbyes",
            "goodbye ~ everyone|everybody|forever",
            "nobody|noone|one ~ miss|notice|care ~ me|gone|dead|if",
            "affairs ~ order|sorted",
            "letters to ~ kids|children|family|son|daughter|mum",
            "rope ~ hang|neck|tie|loft|bought|beam",
            "jump off|from",
            # "i'm on the bridge by the retail park, i just wanted someone to know"
            "im on|at .. bridge|ledge|rooftop|railway",
            "jump in front",
            "point ~ anymore|living|life|carrying",
            "{not} see ~ point",
            "want|make ~ it|everything ~ to stop",
            "suicide",
            "suicidal",
            "self harm",
            "selfharm",
            "overdose",
            "end it all",
            "end it",
            "end my life",
            "take my own life",
            "end things",
            "finish it all",
            "{cope} anymore|any|no",
            "{cannot} {cope}",
            "{cannot} go on",
            "{cannot} carry on",
            "no point {alive}",
            "no point going on",
            "nothing {alive} for",
            "better off without me",
            "better off dead",
            "{not} want {alive}",
            "{not} want to be here",
            "{not} wanna be here",
            "{not} want wake up",
            "want to {die}",
            "wanna {die}",
            "wish i {die}",
            # abuse, control and threats
            "{partner} ~ {hit} ~ {me}",
            "{hit} me",
            "{scared} ~ {partner}",
            "{scared} for my life|safety",
            "{scared} ~ go|going|come ~ home|back",
            "leave|left ~ it|him|her ~ pram|hallway|car",
            "fear for ~ life|safety",
            "walking|walk on eggshells",
            "{partner} ~ controls|takes|took|keeps ~ money|card|bank|benefits|phone|passport",
            "{not} allowed ~ out|see|go|friends|family|phone",
            "{threat} ~ kill|stab|hurt|burn|smash",
            "{threat} me",
            "domestic abuse",
            "domestic violence",
            "abusing me",
            "abuses me",
            "abused",
            "child abuse",
            "financial abuse",
            "racist|racial|homophobic|transphobic abuse",
            "racist|racially",
            "hate crime",
            "controlling behaviour|partner|relationship|husband|boyfriend|wife",
            "{partner} ~ controlling|controls me",
            "coercive",
            "refuge",
            "non molestation",
            "non mol",
            "checks my phone",
            "he|she checks it",
            "hurt her|him|them|us|kids",
            "begging ~ stop",
            "screaming ~ thud|thuds|banging|help",
            "ex ~ found|outside|followed|watching|turned|stalking|stalked|banging",
            "{partner} ~ followed|stalking|stalked|watching me",
            "stab|stabbed|stabbing|machete",
            "{weapon} ~ pulled|waving|threatened|threatening|came|attacked|held|pointed|carrying",
            "spat|spit|spitting at me",
            "burn ~ house|flat|door|down|us|me",
            "set fire ~ door|flat|house|car",
            "petrol ~ letterbox|door",
            "mess|excrement|poo ~ letterbox",
            "because|cause|cos ~ polish|black|muslim|gay|jewish|asian|foreign|disabled|trans",
            # children
            "{child} ~~ food|hungry|starving",
            "{child} ~ {alone}",
            "{child} ~ their own|on own",
            "{child} ~ {neglect}",
            "{neglect} ~ {child}",
            "{child} ~ wandering|roaming|streets ~ night|late|midnight",
            "{child} ~ {not} ~ fed|clean|school",
            "{not} been ~ school",
            "{child} ~ crying|screaming ~ nonstop|hours|all night|no adults|no one",
            "no adults|adult ~ {child}|there|home",
            "mum|dad|parents|mother|father|boyfriend ~ asleep|drunk|high|wasted|unconscious",
            "off ~ her|his|their ~ head|face",
            "touched|touching|touches me|her|him",
            "into my room ~ night",
            "{not} believe me ~ touch|touched|room|dad|stepdad|uncle",
            "older men ~~ young|girl|boy|{child}|picks|pick|car|cars",
            "their|there own since",
            "young|girl|boy|{child} ~~ older men",
            "child protection",
            "social services",
            # adults at risk
            "taking|took|stealing|stole|steals|takes ~ money|pension|card|savings ~ "
            "her|his|nan|nans|grandad|grandads|mums|dads|elderly",
            "pension|card|benefits ~ taking|took|taken|stolen|using|controls",
            "selling|sell|dealing ~ drugs",
            "drugs ~ flat|house|using",
            "county lines",
            "groomed|grooming",
            "taken over ~ flat|house|place|home",
            "{not} {let} me|him|her|them ~ leave|out|go",
            "{not} letting me|him|her ~ leave|out|go|see|phone|speak|work",
            "kept in ~ flat|house|room",
            "no answer|answering ~ door|knocked|knocking|{days}",
            "{not} answering ~ door",
            "smell|smells ~ letterbox",
            "{post} ~ stuck|door",
            "found ~ her|him ~ floor",
            "fell|fallen|fall ~ {cannot}|confused|sense|ambulance",
            "{not} making sense",
            "confused|dementia|wandering ~ {neighbour}|elderly|old|nan|grandad|mum|dad|night",
            "hoarding",
            "{not} eating|eaten ~ {neighbour}|elderly|old|nan|grandad|days",
            "{not} {seen} .. {days}",
            "{not} {seen} .. {neighbour}",
            "{neighbour} ~ {not} {seen}",
            "nobody|noone|no ones|nobodys ~ {seen} ~ {days}|since",
            "wrong side ~ railing|railings|barrier|fence|bridge|balcony",
            "{post} ~ {piling}",
            "{worried} ~ {neighbour}",
            "{worried} about her|him",
            "{exploit}",
            "taking advantage",
            "in {danger}",
            "at risk",
            "{not} feel {safe}",
            "{not} {safe}",
            "vulnerable adult",
            "fallen .. {cannot} get up",
            "{neighbour} ~ collapsed",
            # Written from the development reads' missed concerns: hopelessness, an
            # abuser released or smashing the phone.
            "nothing matters ~ anymore|now|really",
            "enough of life|living",
            "doesnt matter now ~ nothing",
            "whats|what the point ~ any of it",
            "whats|what the point ~ living|life",
            "ex ~ out of|released|gets out ~ prison|jail",
            "he|she smashed|broke my phone",
        ),
        "cy": (
            "pryder diogelu",
            # Leaving no mess for anyone; asking what happens when a tenant dies.
            "gadael llanast ~ neb",
            "os ~ tenant ~ marw",
            # Forgetting to eat, or leaving the gas on unlit: an old person at risk.
            "anghofio ~ bwyta|tabledi|meddyginiaeth",
            "nwy ~ ymlaen ~ heb ~ danio|tanio|gynnau",
            # Milk left on the step: "mae'r llefrith dal ar y stepan".
            "llefrith|llaeth ~ dal|stepan|stepen|stepyn|carreg",
            "cuddio ~ bathrwm|toiled|llofft|cwpwrdd|stafell",
            "llusgo ~ gwallt|hogan|hogyn|plentyn|plant",
            "heddlu ~ cicio|dyrnu|taro|bygwth|cuddio",
            "rhag ofn ~ diolch am bob|popeth",
            "taro|bwrw|curo ~ pen|mhen|mreichiau|hun",
            "clais|cleisiau|llosg",
            "wingo|wingodd",
            "gwn ~ cwpwrdd|meddwl|nos",
            "pennau|mhen|ben ~ eu|hun|hunain",
            "baich",
            "chlywch ~ ddim ~ eto",
            "dewis ~ emynau",
            "gwthio|gwthiodd ~ lawr|grisia|grisiau",
            "meseia|hedfan",
            "heb gysgu",
            "pres|arian ~~ bwyd ~~ ffrind|ffrindiau|twll",
            "well .. heb|hebddi|hebddo",
            "llais|lleisiau ~ deud|dweud|brifo",
            "chwilota ~ biniau|bwyd",
            "hollti|gwaedu ~ gwefus|trwyn",
            "sgam|twyll|cyfrifiadur",
            "gwylltio ~ os|deud",
            "bollt|clo ~ allan",
            "nghloi|cloi ~ mewn|fi",
            "ieir|cath|gath ~~ talu|rhent",
            "cloi ~ hun ~~ crio|llofft",
            "gofala|gofalwch ~ am ~~ caru|sori",
            "fodca|tabledi ~ cymryd|yfed|chwydu",
            "blino ar ~ fod|byw",
            "teimlo dim",
            "be|beth di r pwynt",
            "pwynt ~ byw|mlaen",
            "feps|seidr|alcohol|arian ~~ merched|hogia|plant|12|13|14",
            "spastig|spastic",
            "taflu cerrig",
            "gofalwyr|gofalwr ~ neb|dim|heb",
            "cerdded ~ bore|nos ~ chwilio|88|90",
            "negeseuon od",
            "trefnu ~ angladd",
            "ta ta ~ bawb",
            # Thanks with a pet seen to or an apology: "diolch am bob dim, ti di bod fel
            # chwaer. Sori bo fi heb fod yn well tenant" (a happy move's thanks come with
            # keys and a new address, and stay held).
            "diolch am ~ bopeth|popeth ~~ sori|gath|ci",
            "diolch am bob dim ~~ sori|gath|ci",
            # "fydda i ddim yma i weld y gwelliannau" (I won't be here to see them)
            # (never "dros y Dolig": away for Christmas)
            "fydda|bydda i ddim yma|ma ~ weld|bellach",
            "gorffen pethau|pethe|petha",
            # Someone at home who reads or opens everything, or must not be told.
            "fo|fe|partner|gwr ~ darllen ~ ffon|negeseuon|ebyst|post|llythyrau|llythyra",
            "fo|fe|partner|gwr ~ agor ~ post|popeth|llythyrau|llythyra",
            "peidiwch|peidwch ~ deud|dweud|gweud ~ wrtho|wrthi",
            "hwyl fawr ~ bawb",
            "rhoi ~ pethau ~ ffwrdd",
            "methu cael gafael",
            "hel|cadw ~ pils|tabledi",
            "creithiau",
            "gen i ofn",
            "{not} cael ~ gweld|mynd|siarad",
            "pasbort|mhasbort ~ cymryd|wedi",
            "pasbortau|basbortau|phasbortau ~ cadw|gadw|cadwu|gadwu|cymryd|gymryd",
            "passports ~ took|taken|takes|keeps|kept",
            "cyn ~ bartner|partner|gwr|gwraig",
            "meddw|feddw ~ plant|babi|sgrechen|sgrechian",
            "{child} ~~ hwyr|nos ~~ aros|allan|stepen",
            "{child} ~ bwyd|llwglyd",
            "anghofio ~ adre|adref|ffordd",
            "dryslyd|ddryslyd|dementia",
            "ganddo|ganddi ~ neb",
            "heb ateb ~ drws|ffon",
            "post ~ hel|pentyrru",
            "cymryd|mynd ~ cerdyn|ffon|pensiwn|arian",
            "swastica|swastika",
            "fynd adre|mynd adre ~ gweiddi|paentio|ysgrifennu",
            "{kill} {myself}",
            "cyffuriau ~ fflat|ty|gwerthu",
            "gadael iddo|iddi|i ~ allan|fynd",
            "{not} gallu ~ ymlaen|ymdopi",
            "edrych ar ei ol|hol",
            "hunanladdiad",
            "hunan niweidio",
            "hunan anafu",
            "dim pwynt byw",
            "ddim isio byw",
            "ddim eisiau byw",
            "ddim am fyw",
            "{cannot} ymdopi",
            "methu mynd ymlaen",
            "well .. hebddo|hebdda|hebof",
            "gorffen y cyfan",
            # "rhoi diwedd ar y cwbl" (put an end to it all); "diwedd" alone is the
            # end of the month, and "o'r diwedd" is "at last".
            "rhoi diwedd .. ar|arni|arno|arna|arnaf",
            "diweddu ~ cwbl|bywyd|hun|hunan|popeth|pethau|pethe|arni|arno|ar",
            "cam drin",
            "camdrin",
            "trais",
            "{partner} ~ {hit}",
            "{scared} ~ {partner}",
            "bygwth|bygythiad|bygythiol",
            "{hit} i|fi|mi",
            "ofn ~ iddo|iddi|fo|fe|ddod|dod",
            "{child} ~ {alone}",
            "{child} ~ {neglect}",
            "{not} {seen} .. {neighbour}",
            "{neighbour} ~ {not} {seen}",
            "{post} ~ {piling}",
            "poeni am ~ {neighbour}|hi|fo|hen",
            "{exploit}",
            "cyllell|gwn ~ bygwth|chwifio|dal|pwyntio",
            "gwn saethu|dryll",
            "dwim|dwin ~ {safe}",
            "llochesi",
            "lloches ~ menywod|merched|trais|cam|angen|rhif|lle|saff|{safe}",
            "os na|nad ~ clywed ~ wrtha|gennai|gen|oddiwrtha",
            "gwybodaeth|wybodaeth|rhif|manylion ~ loches|lloches",
            "{thinking} ~ neidio",
            "pont|balconi|dibyn|rheilffordd ~ neidio",
            "mewn {danger}",
            "ddim yn {safe}",
            "trosedd casineb",
            "hiliol",
            "wedi cwympo",
            "gwasanaethau cymdeithasol",
        ),
    },
    "emergency_repair": {
        "en": (
            "{gas} ~ {smell}",
            "{smell} {gas}",
            "{rotten} {eggs}",
            "smell|smells|smelling {eggs}",
            "{co} ~ {alarm} ~ {sounding}",
            "{co} ~ {sounding}",
            "{eggs} ~ {rotten}|{smell}",
            "could|might|maybe|think|probably be gas",
            "{flowing} ~ {cannot} ~ {stop}",
            "tap ~ snapped|broken|bust|burst ~ off",
            "flame ~ yellow|orange",
            "flames ~ yellow|orange",
            "balcony ~ swaying|sways|wobbling|wobbles|wobbly|bouncing|moving|moves",
            "hissing|hisses ~ cooker|hob|ring|meter|pipe|boiler|fire",
            "switch|socket|plug ~ warm|threw|thrown",
            "switch|socket|plug ~ hot ~ touch",
            "{fitting} ~~ arm|hand|fingers ~ numb|tingling|tingly",
            "black|brown ~ marks|stains|streaks ~ fire|boiler|heater|flue",
            "confused|sleepy|drowsy ~ gas fire|boiler|heater",
            "soot ~ boiler|fire|heater|cooker|flue",
            "railing|railings|banister|balustrade ~ loose|broken|fall|gap",
            "entry system|door ~ anyone|walk in",
            "{ceiling} ~ coming down",
            "{ceiling} ~ come|came ~ down|away|off",
            "daylight ~ wall|ceiling|roof|through|see",
            "window|frame ~ fell|fallen ~ out|hole",
            "keep|keeps ~ tripping",
            "{gas} ~ coming|escaping|pouring",
            "{lift} ~ out ~ since|floor|stairs|oxygen",
            "steps|stairs|step ~ cracked|collapsed|loose|moves|gave|snapped|rotten",
            "steps|stairs|floor|floorboards ~ collapsing|collapse|caved|crumbling|sagging|bowing",
            "foot|leg ~ through ~ floor|floorboards|ceiling",
            "wall|walls|chimney ~ leaning|leans ~ over|path|pavement|road|dangerous|cracked|"
            "more|worse|brick|bricks|falling|landed",
            "window|windows ~ blown|blew ~ out|in",
            "{ceiling} ~~ bulging|sagging|saggy|bubble|bubbling ~~ water|dripping|drips|soft",
            "{ceiling} ~ fell|fallen|falling",
            "{ceiling} ~ come|came off",
            "crack|cracks|cracked ~~ worse|wider|bigger|spreading|creaking|brick|bricks|dip|"
            "sagging|bowing|bulging",
            # What burning wiring sounds and looks like.
            "meter|fusebox|fuse ~ smoking|smoke|smouldering|melted|melting",
            "socket|sockets|plug|switch ~ crackling|sizzling|fizzing|frying|belt",
            "carbon monoxide ~ headache|headaches|dizzy|sick|poisoning|symptoms|fumes",
            # What carbon monoxide does, said of the boiler or the cooker.
            "{heating}|{gas}|cooker|flue ~~ headaches|dizzy|dizziness|drowsy|lightheaded",
            "{alarm} .. {sounding} .. off",
            "{alarm} ~ {cannot} {stop}",
            "{water} ~ {flowing}",
            "{water} ~ {seeping} ~ {through}",
            "{water} ~ {seeping} ~ {overhead}|{fitting}",
            "{water} ~ {fitting}",
            "{flowing} ~ {fitting}|{overhead}",
            "{seeping} ~ {fitting}",
            "{pipe} ~ {burst}",
            "{burst} ~ {pipe}",
            "{leak} ~ {wet_place}",
            "{leak} ~ {water}",
            "{leak} ~ {gas}",
            "{leak} ~ again|still|worse",
            "{cannot} ~ {stop} ~ {water}",
            "{cannot} ~ {stopcock}",
            "flooding|flooded",
            "{sewage}",
            "{toilet} ~ {overflow}",
            "{heating} ~ {broken}|{off}",
            "{heating} .. {not} .. {working}",
            "{not} {heating}",
            "{not} hot water",
            "{not} {hot_water}",
            "hot water ~ {broken}|{off}",
            "hot water .. {not} .. {working}",
            "{not} water",
            "{spark}",
            "{burning} ~ smell",
            "smell ~ {burning}",
            "{electric} ~ {burning}",
            "{electric} ~ {smoke}",
            "{exposed} ~ wires|wire|wiring|cables",
            "buzzing ~ {electric}|meter|cupboard|socket",
            "{shock}",
            "{not} {electric}",
            "power cut",
            "{electric} ~ {broken}|{off}",
            "{electric} .. {not} .. {working}",
            "keeps tripping",
            "on {fire}",
            "caught {fire}",
            "{fire} in|at|from|upstairs|downstairs|next|kitchen|flat|house|bin|room",
            "{smoke} ~ {flowing}|{seeping}",
            "{smoke} ~ {fitting}",
            "full {smoke}",
            "{smoke} everywhere",
            "{ceiling} ~ {collapse}",
            "{collapse} ~ {ceiling}",
            "{door} .. {not} .. {secure}",
            "{door} .. {cannot} .. {secure}",
            "{cannot} .. {secure} .. {door}",
            "{door} ~ {damaged}",
            "{cannot} {secure}",
            "insecure",
            "{intruder}",
            "broken into",
            "break in",
            "{lift} ~ {stuck}",
            "{lift} ~ {broken}",
            "{lift} ~ out order",
            "wheelchair|disabled ~ {cannot} ~ leave|out|get",
            "{lift} .. {not} .. {working}",
            "emergency repair",
            "urgent repair",
        ),
        "cy": (
            "{gas} ~ {smell}",
            "{rotten} {eggs}",
            "{co} ~ {alarm} ~ {sounding}",
            "larwm ~ {sounding}",
            "dwr ~ {flowing}",
            # "dod" (coming) is said of water, smoke and gas, but also of lights coming on
            # and of workmen: it counts only with them ("dŵr yn dod drwy'r nenfwd").
            "dwr ~ {seeping}|dod ~ {through}|{overhead}|{fitting}",
            "{gas} ~ dod ~ {fitting}|{heating}|popty|hob|mesurydd|meter|pibell|peipen|allan",
            "{pipe} ~ {burst}",
            "gollwng ~ {wet_place}",
            "{sewage}",
            # "baw" alone is dirt or a dog's mess; with a toilet or a drain it is sewage.
            "baw ~ toiled|draen|draeniau|sinc|bath|cawod|gorlifo|llifo|carthffos",
            "{heating}|{gas}|popty ~~ benysgafn|penysgafn|pendro|llewygu",
            "{heating} ~ {broken}|{off}",
            "{heating} .. ddim .. gweithio",
            "dim {heating}",
            "dim dwr",
            "ffenest|ffenestr|ffenestri|drws ~ chwythu|chwythodd ~ allan|mewn|ffwrdd|twll",
            "dwr poeth ~ dim|ddim",
            "gwreichion|gwreichioni",
            "soced|socedi|plwg|switsh|golau ~ clecian|ffrio|hisian",
            "{smoke} ~ golau|soced|plwg|switsh|mesurydd",
            "grisiau|grisie|grisia|stepen|stepan ~ cracio|craciau|suddo|suddodd",
            "{heating} ~ heb ~ ddod|weithio|gweithio|danio|tanio",
            "gwifrau|gwifren|weiars ~ {exposed}",
            "arogl|ogla ~ llosgi",
            "dim trydan|pwer",
            "trydan ~ {broken}|{off}|mynd",
            "ar {fire}",
            "{fire} ~ {smoke}|llosgi|cegin|fflat|ty|ystafell",
            "mwg ~ {flowing}|{seeping}|{fitting}|ymhobman|dod",
            "nenfwd ~ lawr|disgyn|cwympo",
            "nenfwd ~ plygu|bolio",
            "ffenest|ffenestr|ffram ~ {collapse}",
            "wal|simdde ~ pwyso|gwyro",
            "troed|coes ~ drwy ~ llawr|nenfwd",
            "{ceiling} ~ {collapse}",
            "{door} ~ ddim|dim ~ {secure}",
            "{door} ~ methu ~ {secure}",
            "{door} ~ {damaged}",
            "methu {secure}",
            "{intruder}",
            "torri mewn",
            "lifft ~ {stuck}|{broken}",
            "rheilen|rheiliau|canllaw ~ rhydd|llac|symud|torri",
            "atgyweirio brys",
            "trwsio brys",
            "fflam|fflamau ~ felen|melyn|oren",
            "balconi ~ siglo|symud|sigledig",
            "byrlymu ~ {toilet}|{sewage}",
            "gwres|gwresogi ~ dwr ~ twym|poeth ~ mynd|stopio|torri",
            "crac|grac|craciau ~~ nenfwd ~~ disgyn|lledu|llwch|newydd",
            # A crack in a wall that widens (lletach) or spreads: the structure moving.
            "crac|cracio|craciau|hollt ~~ lletach|lledu|gwaeth|tyfu",
            "hisian ~ popty|cwcer|hob|mesurydd|peipen|boeler",
        ),
    },
    "subject_access_request": {
        "en": (
            "subject access",
            "transcript|transcripts",
            "footage|cctv|bodycam|camera|videos|audio|recording|recordings|minutes ~~ me",
            "photos|pictures ~~ of me|took|taken",
            "copy|copies ~~ photos|pictures|footage|bodycam|cctv|voicemails|voicemail|recordings|"
            "recording|texts|interviews|warnings|assessment",
            "shared|sharing|gave|give|passed ~ my ~ details|info|information|data",
            "who|what ~~ shared|gave|told|passed|sharing ~~ my|me",
            "file on|about me",
            "everything ~ on my ~ file|record|account",
            "full ~ tenancy|housing ~ file",
            "copies|copy|printout ~ all|every ~ emails|notes|entries|log|assessment|report",
            "risk assessment|contact log ~~ copy|copies|seen|see|printout",
            "mention|mentions|mentioning|discuss|discussed ~ me",
            "who ~ sharing|shared|told|passed|disclosed|given ~ my|me",
            "what ~ on my ~ record|file|account|system",
            "marker|flag ~ see|says|notes|say",
            "entitled|right ~~ see|copy|information|record|records",
            "month ~ deadline|respond|reply|legal",
            "notebook|texts|messages ~ about me",
            "read ~ every|all|everything ~ note|notes|record|file",
            "access request",
            "sar",
            "dsar",
            "data protection",
            "gdpr",
            "right of access",
            "personal data",
            "personal information",
            "{copy} ~ my|me ~ {records}",
            "{records} ~ {hold} ~ about|on me",
            "{records} ~ {hold} ~ about|on myself",
            "everything ~ {hold} ~ me",
            "everything ~ written|said|recorded|noted|held|file ~ about|on me",
            "what ~ {hold} ~ on|about me",
            "what ~ written|said|recorded|noted ~ about me",
            "all ~ {records} ~ about|on me",
            "all ~ emails|notes|records|letters ~ about|mention|mentions|on me",
            "{records} ~ relating|related|regarding|concerning ~ me|myself",
            "{copy} ~ report|notes|file|records|recording|recordings ~ about|on me",
            "copies|copy ~ emails|letters|notes|recordings|cctv|correspondence|reports ~ "
            "me|my|about",
            "cctv ~ me|of me",
            "recordings|recording ~ my|me ~ calls|call",
            "notes ~ staff|officer|officers|you ~ write|wrote|make|made|keep|kept",
            "what ~ {records} ~ on|about me",
            "see|view|get|send|access|want .. my file|records|notes|data",
            "my file",
            "my records",
            "my case notes",
            "my housing file",
            "my tenancy file",
            "my data",
            "filmed|recorded ~ me ~ can|have|copy|bit|see|footage",
            "all|every ~ letters|emails ~ you ~ sent|send ~ me",
        ),
        "cy": (
            "cais ~ {records}",
            "amdana|amdanaf ~ teipio|ysgrifennu|ysgrifenedig|nodiadau|weld|gweld",
            "copi|copiau ~~ amdana|amdanaf|enw|achos",
            "recordiad|lluniau|camera|fideo ~~ ohona|copi|fi",
            "tap|recordiad ~ alwad|galwad|sgwrs",
            "cctv ~ gyrrwch|hala|anfonwch|isio|moyn|gael|copi",
            "rhannu ~ manylion",
            "nodiadau ~ amdana|amdanaf|swyddog",
            "data personol",
            "gwybodaeth bersonol",
            "diogelu data",
            "gdpr",
            "{records} ~ amdanaf|amdana",
            "copi|cais ~ {records}",
            "popeth ~ gennych",
            "popeth ~ amdanaf|amdana",
            "gweld ~ ffeil|nghofnodion|cofnodion|nghyfrif|cyfrif",
            "rhannu ~ ngwybodaeth|gwybodaeth|manylion|manylion",
            "asesiad risg ~ amdana|amdanaf|copi|gopi|gweld",
            "copiau|gopiau ~ lluniau|recordiad|nodiadau",
            "fy ffeil",
            "fy nghofnodion",
        ),
    },
    "appeal": {
        "en": (
            "{appeal}",
            "{restriction} ~~ {change}",
            "only ~ phone|email|emails|ring|call|calls|write|letters|portal|solicitor|via|deal|use|"
            "through ~~ "
            "{change}|{unfair}|lift|stop|stopped|reviewed|looked|instead|allowed|different",
            "limit ~ calls|call|contact|emails ~~ lift|{change}|review|enough|realistic",
            "read ~ filed|file|filing ~~ {change}|{unfair}|stop|stopped|fair|right",
            "no contact ~~ reviewed|review|{change}|{challenge}|warning|chance",
            "allowed to ~ phone|ring|call|email|contact ~ again",
            "dispute ~ all|it|this|letter|allegations|facts",
            "out proportion",
            "only ~~ look|looking|looked ~ again",
            "{restriction} ~~ shouldnt|wrongly|mistake",
            "independent ~~ look|review|{restriction}",
            "someone else ~~ look|review|{restriction}",
            "another|different officer",
            "{change} ~~ {restriction}",
            "only allowed|able ~~ {change}|{unfair}",
            "only ~ contact|speak|ring|phone ~ you|us ~~ {change}|{unfair}",
            "{restriction} ~~ disability|autism|adjustment|deaf|blind|disabled",
            "reasonable adjustment ~ review|{restriction}",
            "single point ~ {change}|swap|swapped|else",
            "managed contact ~~ {challenge}|{change}|{unfair}|dispute",
            "unacceptable behaviour ~~ {challenge}|{change}|{unfair}|dispute",
            "{restriction} ~ out order",
            "limit ~ calls|contact ~ {change}|looked|again",
            "only ~ 1|one ~ person ~ {change}|want|why",
            "stop me ~ coming|ringing|calling|phoning ~~ {challenge}|{unfair}|how",
            "{not} accepting",
            "less strict",
            "{not} fair ~~ {restriction}|restricted|back",
            "no opportunity|chance ~ respond|explain",
            "{challenge} ~ {restriction}",
            "{challenge} ~ decision",
            "{restriction} ~ {unfair}",
            "{unfair} ~ {restriction}",
            "{restriction} ~~ {challenge}",
            "no contact ~ {unfair}|{challenge}|disagree",
            "single point ~ {unfair}|{challenge}|disagree|object",
            "disagree ~ {restriction}|decision",
            "{not} agree ~ {restriction}|decision|rule",
            "{not} accept ~ decision|{restriction}",
            "limit ~~ needs|raise|increase|higher|{change}",
            "cap ~ weekly|week|email|emails|contact|calls ~~ lift|raise|increase|{change}",
            "email|emails|call|calls ~ week ~ not|isnt ~ enough",
            "too long ~ reduce|shorten|cut|{change}|bad",
            "object|objecting ~ {restriction}|decision|only",
            "contest it|this|decision",
            "{restriction} ~ looked|look ~ again",
            "decision ~ looked|look ~ again",
            "independent review",
            "never ~ chance ~ explain|respond|say|defend",
            "how ~ get ~ lifted|removed|overturned|ended",
        ),
        "cy": (
            "newid|newidiwch ~ telerau|trefniant|trefniadau",
            "{appeal}",
            "{restriction} ~~ newid|newidiwch|tynnwch|ailystyriwch|adolygwch|codi|dileu",
            "plis|pls ~ ailystyriwch",
            "un pwynt cyswllt ~ newid|rhywun arall",
            "ond ~ ffonio|ffon|bost|ebost|llythyr|swyddog|siarad ~~ "
            "newid|newidiwch|codi|deg|annheg",
            "terfyn ~~ godi|codi|newid|realistig",
            "darllen ~ ffeilio ~~ deg|stopio|newid|annheg",
            "unig|ond ~ bost|ebost|ffon ~ annheg|newid|newidiwch",
            "{unfair} ~ penderfyniad",
            "cyfle ~ ymateb|esbonio",
            "ailystyried|ailystyriwch|adolygwch",
            "{challenge} ~ {restriction}",
            "{challenge} ~ penderfyniad",
            "{restriction} ~ {unfair}",
            "{unfair} ~ {restriction}",
            "anghytuno ~ {restriction}|penderfyniad",
            "gwrthwynebu ~ {restriction}|penderfyniad",
            "edrych eto ~ penderfyniad|{restriction}",
            "adolygiad ~ {restriction}|cyswllt|nghyswllt|annibynnol",
            "limit|cap|terfyn ~ newid|codi|codwch|newidiwch|isie",
            "rhy hir ~ torri|torrwch|lleihau|byrhau|newid",
            "amseroedd|oriau|oria ~ newid|newidiwch|anaddas",
        ),
    },
    "complaint": {
        "en": (
            "{complaint}",
            "{ombudsman}",
            "my mp",
            "member of parliament",
            "councillor",
            "stage 1|2|one|two",
            "{outrage} ~ {landlord}",
            "escalate|escalated|escalating ~ it|this|manager|above|higher|next",
            "not|isnt|wasnt good enough ~~ nobody|again|still|weeks|months|promised|reported|"
            "waiting|service|appointment",
            "worst ~ landlord|association|council|service|housing",
            "not happy|satisfied ~ outcome|response|service|reply|answer|done|job|work|handled",
            # Dissatisfaction is a complaint however it is said (the Housing Ombudsman's
            # Complaint Handling Code): rudeness, being ignored, asking again and again,
            # going to the papers.
            "rude|rudest|rudeness ~ staff|officer|surveyor|contractor|operative|fitter|office|"
            "phone|spoken|spoke",
            "how ~ spoken|talked|treated ~ to|like",
            "treated|treat|treating ~ like ~ criminal|dirt|child|idiot|rubbish|muck|nothing|nobody",
            "how many times ~ ring|chase|email|report|tell|ask|phone|call|write|chasing|ringing",
            "no way to ~ run|treat",
            "papers|press|newspaper|newspapers|media|bbc|itv ~ "
            "contacting|contact|going|go|tell|telling",
            "nobody|no one ~ listens|listening|cares|bothered|bothers",
            "never|nobody|no one ~ rings|calls|rang|called ~ back",
            "{outrage} ~ still|promised|workmen|waiting|nobody|weeks|months",
            "how ~ acceptable",
            "want|demand|expect|owed .. explanation|apology",
            "refund ~ want|months|weeks|service|charged|charge",
            "goodwill ~ payment|gesture ~ promised|still|nothing|never",
            "third|fourth|fifth time ~ cancelled|hasnt|didnt|missed|turned",
            "not acceptable ~ said|promised|weeks|months|still|waiting",
            "not how ~ treat|speak|talk ~ people|ppl|tenants|customers|someone",
            "hung|hang|put ~ up|phone|down ~ on me",
            "fobbed|fobbing ~ off",
            "too much to ask",
            "sick|tired ~ of ~ lied|lies|excuses|promises",
            "take ownership",
            "pillar to post",
            "passed ~ between|around ~ departments|teams",
            "anyone|anybody ~ even ~ read|reads|reading",
            "head of ~ housing|service|department|repairs",
            "lost ~ faith|confidence ~ you|landlord|service|association|council",
            "treat|treated ~ tenants|customers ~ like",
            "sort ~ priorities",
            "dropped the ball",
            "responsible ~ mess|shambles|fiasco",
            "want|refund|owed ~ my money back",
            "want|claim|claiming|owed|entitled|deserve ~ compensation",
            "asking|ask|request|requesting|seeking|seek ~ compensation",
            # Paying for what the landlord's failure ruined is compensation by another name.
            "pay|paying|reimburse|refund|compensate ~ ruined|damaged|destroyed|spoiled",
        ),
        "cy": (
            "{complaint}",
            "{ombudsman}",
            "aelod seneddol",
            "aelod o'r senedd",
            "cynghorydd",
            "cam 1|2|un|dau",
            "{outrage} ~ {landlord}",
            "fynd|mynd|gyrru|anfon ~ uwch",
            "ddim hapus|fodlon ~ ymateb|gwasanaeth|canlyniad|ateb",
            "{outrage} ~ addewid|addo|disgwyl|aros|misoedd|wythnos|wythnosau",
            "gyfrifol|cyfrifol ~ llanast|annerbyniol|smonach",
            "isio|eisiau|moyn ~ arian|pres ~ nol",
            "fel na|felly ~ trin ~ pobl|tenantiaid|rhywun",
            "ffon|ffôn ~ lawr ~ arna|arnaf",
            "{outrage} ~ isio|eisiau|moyn ~ mynd",
            "isio|eisiau|moyn|hawlio|haeddu|cais ~ iawndal",
            "prif weithredwr",
            "digon yw digon ~ rheolwr|ymddiheuriad|esboniad|egluro",
            "llond bol ~ rheolwr|pennaeth|uwch|enw",
            "ers ~ addo|addoch|addawsoch|addewid",
            "addewidion|addewid ~ gwag|torri|torrwyd",
            "geiriau gwag",
            "disgwyl gwell",
            "ormod i ofyn",
            "diolch am ddim",
            "rhywun ~ darllen ~ negeseuon|ebyst|llythyrau|pethe|pethau",
            "colli ~ ffydd",
            "trin|trinio ~ tenantiaid|cwsmeriaid ~ fel",
            "isio|eisiau|moyn|cais ~ ad daliad",
            # Paying for what the landlord's failure ruined (see the English).
            "talu ~~ difetha|difrodi|dinistrio|sbwylio",
            "rywun|rhywun|chi ~ ymddiheuro ~ isio|eisiau|moyn|disgwyl",
            "isio|eisiau|moyn|disgwyl ~ ymddiheuriad",
            "diolch ddim byd",
            "siarad ~ rhywun ~ uwch",
            "gymraeg|cymraeg ~ gofyn|gofynnais ~ saesneg|dim|gwaith",
        ),
    },
}
