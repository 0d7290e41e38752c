"""English words one slip from a phrase word: never taken for a slip.

Written by tests/corpus/exemptions/real_words.py from Debian's word lists; do not
edit by hand."""

REAL_WORDS = frozenset(
    """
    abusers acing adana affair aground alars allegation alright anther appal arching
    arcking augusta babes babiest baking bandying bannister barbies barter bating behavior
    belonging berating bette binds blankest bleating blowing bowling boyle braking branding
    bride bridget broiler bruisers bugled bugling buoying burglar burgle burying bused
    bustled busying cable chancel chang chocked chocking choke christas cigarette cling
    clothe cloths coked coking combing compliant confuse consume contract contracted
    control cooing cooke cookery cooping copiers copping councilor count country crackled
    crooking crumbing curtain darins detail dillard dipping disable disclose discus
    discuses document eggshell elating electrocute emils enduing entitle escapee explode
    expose extinguishes faculty fames farther fault feather fiends filling filming filth
    finch finches finis finnish firming flailed flailing flambes flamers fling flitting
    foiling freeing freeze friend froze funereal gabbed gassers glasses goodby goodbys
    granddad granddads grasses handed handing handle harding hared haring haters haven
    heather heathers horded hording hosing hungary hurtling ignore interview intrude
    intrudes leavens locke loner manage manged manger marking masking matte mediation
    message meted meting minuets minute minutest mistaken monitor mourning muddle notching
    occupant office offices overdoes paced pained paining panned panning panted panting
    parent paring passe paunches pearson peiping peron persona phonying photo photons
    picture piing pilaster pimping planed planing plenty poling poring precaution raciest
    refugee regulation relate replace resolve revere reveres riling ringling rotating
    sacked sacking sacred salving sapped satins scare scarfed scarfing scarred scarring
    scrammed sealing seals seeding seeking seeming sensory sewings shagging shard share
    sharked sharking sharped sharping shaving shavings sheared shearing shelling shingle
    shoed shorted shove showery showier shred singe sings sitting slaving sleeping smocking
    smoldering snagging snorted socked sopped sorter sortied sower spared sparing sparkled
    sparkling spars spaying splashing sported spotlight staels stair staked staking staled
    staling stalins stans stared staring stars startled stated staving steal steeping
    stephen stirs stockpile storied stormed storming story strains strangle straying string
    stropped swagging sweeping sweet swelling swigs swing symptom tablet tacking tasking
    thicket thing thorough though throttle throw tickling tiled tings tipped tipping toddle
    toddles touche tough trainer treat treats tricking trippe tuned video waiving waled
    waling waning waring warings waste wears weaving weigh weighty weirs widow widows wight
    wring wrist writhing writs
    """.split()  # noqa: SIM905 (one word a place, as data)
)
