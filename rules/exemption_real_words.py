"""English words one slip from a phrase word: never taken for a slip.

Written by tests/corpus/exemptions/real_words.py from Debian's word lists; do not
edit by hand."""

REAL_WORDS = frozenset(
    """
    abusers acing adana affair aground alars allegation alright anther appal arching
    arcking arline augusta babes babiest baking bandying bannister barbies barrie barter
    bating behavior belonging berating bette binds blankest bleating blowing bough bowling
    boyle braking branding bride bridget broiler brought bruisers budge bugled bugling
    buoying burglar burgle burying bustled busying cable cackling canceled careers carrs
    carters carvers chancel chang chocked chocking choke christas cigarette cling clothe
    cloths coked coking collect combing compliant confuse consume contract contracting
    control cooing cooke cookery cooping copiers copping councilor count country crackled
    crooking crumbing curtain customer damage darins detail dillard disable disclose discus
    discuses doctor document eggshell elating electrocute emils enduing entitle escapee
    excuse explode expose extinguishes faculty fames farther fault feather fiend fiends
    filling filming filth finch finches finger finis finnish firming fizzling flailed
    flailing flambes flamers fling flitting floorboard foiling forth fraying freeing freeze
    fried fritter frizzing froze funereal gabbed garbage gassers glasses goodby goodbys
    granddad granddads grasses handle harding hared haring haters haven heather heathers
    honesty horded hording hosing hungary hurtling ignore interview intrude intrudes laded
    learning leavens listen locke loner manage manged manger marking masking matte mattes
    mediation merced minuets minute minutest mistaken misused monitor monts moths mourning
    muddle needle nightys notching occupant overdoes paced pained paining pampers panned
    panning panted panting paper parent paring passe paunches paupers pearson pedro peiping
    peron persona phonying photo photons picture piing pilaster pimping planed planing
    plenty poling poring praying precaution prioritise prioritises prioritizes promise
    puttying raciest refugee regulation relate release replace resolve revere reveres
    riling ringling rotating rubbishy sacked sacking sacred salving sanding sapped satins
    scare scarfed scarfing scarred scarring scrammed scratchy sealing seals seeding seeming
    sensory sewings shagging shamble shard share sharked sharking sharped sharping shaving
    shavings sheared shearing shelling shingle shitting shoed shorted shove showery showier
    shred singe sings siting slaving slaying sleeking sleep sleeping slitting smocking
    smoldering snagging snorted socked socking soiled solder solider sopped sortied sower
    spared sparing sparkled sparkling spars spaying spending splashing sported spotlight
    staels stair staked staking staled staling stalins stans stared staring stars startled
    stated staving steaks steal steeping stephan stephen stirs stockpile storied stormed
    storming story strains stranding strangle straying streak string stropped swagging
    sweeping sweet swelling swigs swing swish swizzling symptom syringe tablet tacking
    tacks tasking taster thicket thigh thing thins thorough though throaty throttle throw
    tickling tiled tinging tings tipped tipping toastier toddle toddles touche tough track
    tricking trippe tuned vices video waiving waled waling waning waring warings waste
    wears weaving weigh weighty weirs widow widows wight wobble wring wrist writs
    """.split()  # noqa: SIM905 (one word a place, as data)
)
