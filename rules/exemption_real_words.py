"""English words one slip from a phrase word: never taken for a slip.

Written by tests/corpus/exemptions/real_words.py from Debian's word lists; do not
edit by hand."""

REAL_WORDS = frozenset(
    """
    abusers acing adana aground alars alright anther appal arching arcking augusta babes
    babiest baking barbies bating berating bette binds blankest bleating blind blowing
    bother bowling boyle broiler bruise bruisers bugled bugling burglar burgle bused
    bustled cable chang chocked chocking choke cling coked coking combing compliant confuse
    consume contract cooing cooping copiers copping councilor crackled crooking crumbing
    curtain darins dipping disable document electrocute email emils enduing escapee explode
    expose extinguishes faces faculty fames farther fault feather filth firming flailed
    flailing flambes flamers flitting freeing froze gabbed gassers glasses goodby goodbys
    granddad granddads grasses handed handing handle hared haring haters haven heather
    heathers holing hosing hungary hurtling ignore intrude intrudes locke loner manage
    manger marking masking matte meted meting notching occupant office offices overdoes
    paced panned panning parent paring passe paunches peiping persona piing pilaster
    pimping planed planing plenty poling poring precaution raciest refugee regulation
    replace resolve revere reveres ringling rotating sacked sacking sacred sapped saving
    scare scarfed scarfing scarred scarring sealing seals seeding seeking seeming sewings
    shagging shavings shelling shoed shorted shove showier sings sitting sleeping smocking
    smoldering snagging snorted socked sopped sortied sower spared sparing sparkled
    sparkling spars spaying splashing sported spotlight staels staked staking staled
    staling stared staring startled stated staving steal steeping storied stormed strangle
    stropped swagging sweeping swelling swigs swing symptom tables tablet tacking talking
    tasking thicket thing thins thorough though throttle tickling tiled tings tipped
    tipping toddle toddles touche tough treat treats tricking trippe tuned wears weirs
    widow widows wring wrist writs
    """.split()  # noqa: SIM905 (one word a place, as data)
)
