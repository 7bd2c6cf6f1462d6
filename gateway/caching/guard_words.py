"""Word lists for the semantic-cache guard (gateway/caching/guard.py), English only.

Kept as Python rather than a data file so that no package-data entry is needed. Every list is
lower case; the guard looks words up after lower-casing them.
"""

from __future__ import annotations


def _aliases(rows: str) -> dict[str, str]:
    """`Display: alias, alias` rows -> {alias: display}; the display name is its own alias."""
    table: dict[str, str] = {}
    for row in rows.strip().splitlines():
        display, _, rest = row.partition(":")
        for alias in [display, *rest.split(",")]:
            if alias.strip():
                table[alias.strip().lower()] = display.strip()
    return table


# Proper nouns a prompt may write in any case or at the start of a sentence. Several aliases
# collapse to one name so that "USA", "the US" and "United States" are the same fact.
ENTITIES = _aliases(
    """
United States: usa, us, u.s, u.s.a
South America
North America
Latin America
Africa
Asia
Europe
Antarctica
Oceania
United Kingdom: uk, britain, great britain
USD: dollar, dollars, $, us dollar, us dollars
EUR: euro, euros, €
GBP: sterling, £, british pound, british pounds
JPY: yen, ¥
CNY: yuan, renminbi, rmb
INR: rupee, rupees
CHF: swiss franc, swiss francs
CAD
AUD
MXN: peso, pesos
BTC: bitcoin
ETH: ethereum
Python
Java
JavaScript: js
TypeScript: ts
C++: cpp
C#: csharp
F#
Go: golang
Rust
Ruby
Swift
Kotlin
Scala
PHP
Perl
Haskell
Elixir
Erlang
Lua
R
C
Julia
Dart
MATLAB
Bash
PowerShell
SQL
HTML
CSS
JSON
YAML
XML
CSV
TOML
Markdown
React
Vue
Angular
Django
Flask
Node.js: node, nodejs
Docker
Kubernetes: k8s
PostgreSQL: postgres
MySQL
SQLite
MongoDB
Redis
Git
Linux
Windows
macOS: mac os, osx
iOS
Android
Excel
"""
)
# Countries, capitals, languages and calendar names map to themselves (title case).
ENTITIES.update(
    {
        w.replace("_", " "): w.replace("_", " ").title()
        for w in """
        afghanistan argentina australia austria bangladesh belgium brazil bulgaria canada chile
        china colombia croatia cuba czechia denmark egypt england estonia ethiopia finland france
        germany ghana greece hungary iceland india indonesia iran iraq ireland israel italy japan
        kenya korea south_korea north_korea latvia lithuania malaysia mexico morocco nepal
        netherlands holland new_zealand nigeria norway pakistan peru philippines poland portugal
        romania russia saudi_arabia scotland serbia singapore slovakia slovenia south_africa spain
        sweden switzerland taiwan thailand turkey ukraine vietnam wales georgia jordan chad
        amsterdam athens bangkok barcelona beijing berlin boston brussels budapest cairo chicago
        copenhagen delhi dubai dublin edinburgh hong_kong istanbul jakarta lisbon london
        los_angeles madrid manila melbourne miami milan montreal moscow mumbai munich nairobi
        new_york oslo ottawa paris prague rome san_francisco seattle seoul shanghai stockholm
        sydney tokyo toronto vancouver venice vienna warsaw zurich nice
        english french german spanish italian portuguese dutch russian chinese mandarin
        cantonese japanese korean arabic hindi bengali urdu turkish greek hebrew swedish
        norwegian danish finnish ukrainian vietnamese thai indonesian swahili latin polish
        monday tuesday wednesday thursday friday saturday sunday
        january february march april may june july august september october november december
        """.split()
    }
)
# Names that are also everyday words ("go home", "rust on a bike", "a swift reply", "us"):
# they count only when capitalised mid-sentence or written in capitals.
AMBIGUOUS = set(
    """go rust ruby swift r c julia dart us flask node windows excel react vue angular git ts
    js bash latin turkey chad jordan georgia polish nice china march may august""".split()
)

# Units count as entities when they follow a number ("5 km") or a conversion word
# ("... to miles", "how many cups in a gallon"): elsewhere they are ordinary nouns.
UNITS = _aliases(
    """
km: kilometer, kilometers, kilometre, kilometres, kms
mi: mile, miles
m: meter, meters, metre, metres
cm: centimeter, centimeters, centimetre, centimetres
mm: millimeter, millimeters, millimetre, millimetres
ft: foot, feet
in: inch, inches
kg: kilogram, kilograms, kilo, kilos, kgs
g: gram, grams
lb: pound, pounds, lbs
oz: ounce, ounces
L: liter, liters, litre, litres
mL: ml, milliliter, milliliters, millilitre, millilitres
gal: gallon, gallons
cup: cups
tbsp: tablespoon, tablespoons
tsp: teaspoon, teaspoons
°C: celsius, centigrade, °c
°F: fahrenheit, °f
K: kelvin
mph
s: second, seconds, sec, secs
min: minute, minutes, mins
h: hour, hours, hr, hrs
day: days
week: weeks
month: months
year: years, yr, yrs
GB: gigabyte, gigabytes, gb
MB: megabyte, megabytes, mb
TB: terabyte, terabytes, tb
"""
)
# "in" and "m" are far too common as words; they count only as spelled-out units.
UNITS.pop("in", None)
UNITS.pop("m", None)

# Capitalised function words are not names ("Hi, Can you...", "Thanks! What...").
STOP = set(
    """a about above across after again against all also am an and any are as at be because
    been before being below between both but by can could did do does doing done down during
    each either else even ever every few for from further get gets getting give go going got
    had has have having he her here hers him his how however i if in into is it its itself
    just let like make me might mine more most much must my myself need no nor not now of off
    on once one only or other our ours out over own per please quite rather really same shall
    she should so some such than that the their theirs them then there these they this those
    though through thus to too under until up upon us use using very via want was way we well
    were what whatever when where whether which while who whom whose why will with within
    without would yet you your yours yourself hi hello hey dear thanks thank thx ok okay yes
    sure cheers also tell show explain help give write find say know let's may maybe
    kindly quick question""".split()
)

# Negation cues. "n't" endings and "-free"/"non-" are found by the guard's code.
NEGATIONS = set(
    """not no never none nobody nothing neither nor nowhere noone cannot without except
    excluding exclude excludes non dont doesnt didnt isnt arent wasnt werent cant couldnt
    wouldnt shouldnt wont hasnt havent hadnt aint mustnt neednt w/o""".split()
)
# A cue before one of these is a hedge about the asker, not about the facts: "I'm not sure
# how to...", "I don't know how to...", "no worries", "can't figure out".
HEDGES = set(
    """sure know understand figure remember recall seem idea clue worries worry rush hurry
    certain""".split()
)

# Groups of opposite poles. A prompt that has one pole and another prompt that has a different
# pole of the same group (and not the first) need different completions. Multi-word entries match
# as phrases ("turn off"). Each row: pole | pole [| pole ...], words of a pole comma-separated;
# an indented line continues the row above.
OPPOSITES = """
ascending, asc, ascendingly | descending, desc, descendingly
increase, increases, increased, increasing, increment, raise |
    decrease, decreases, decreased, decreasing, decrement, reduce, lower
maximum, max, maximize, maximise, maximal | minimum, min, minimize, minimise, minimal
highest | lowest
largest, biggest, greatest | smallest, tiniest, least
larger, bigger, greater | smaller, lesser
most | least, fewest
more | less, fewer
encrypt, encrypts, encrypted, encrypting, encryption |
    decrypt, decrypts, decrypted, decrypting, decryption
encode, encodes, encoded, encoding | decode, decodes, decoded, decoding
serialize, serialise, serialization, serialisation |
    deserialize, deserialise, deserialization, deserialisation
compress, compressed, compressing, compression, zip |
    decompress, decompressed, decompressing, decompression, unzip, extract
before | after
above | below
first | last
oldest, earliest | newest, latest
older, earlier | newer, later
input, inputs | output, outputs
import, imports, importing | export, exports, exporting
upload, uploads, uploading, uploaded | download, downloads, downloading, downloaded
push | pull
uppercase, upper case, capitalize, capitalise | lowercase, lower case
enable, enabled, activate, turn on, switch on | disable, disabled, deactivate, turn off, switch off
add, adding, append, insert | remove, removing, delete, deleting, drop
plus, + | minus, subtract, subtracted | times, multiplied, multiply, \u00d7 | divided, divide, ÷
start, starting | stop, stopping
open, opening | close, closing
buy, buying | sell, selling
cheapest | most expensive, priciest
cheaper | more expensive, pricier
faster, quicker | slower
fastest, quickest | slowest
better | worse
best | worst
longest | shortest
longer | shorter
heavier | lighter
higher | lower
advantages, pros, benefits | disadvantages, cons, drawbacks
gain, gaining | lose, losing
hot | cold
hottest, warmest | coldest
left | right
north | south
east | west
true | false
client, client-side | server, server-side
row, rows | column, columns
horizontal, horizontally | vertical, vertically
width | height
adult, adults | child, children, kid, kids
male, men | female, women
morning | evening, night
today | tomorrow | yesterday
arrival, arrive, arriving | departure, depart, departing
inhale | exhale
sunrise | sunset
synchronous, sync | asynchronous, async
public | private
"""

# Number words ("hundred", "dozen" and the scales multiply). Ordinals from "third" on are
# unambiguous; "first"/"second" are not counted as numbers.
UNITS_WORDS = """zero one two three four five six seven eight nine ten eleven twelve thirteen
    fourteen fifteen sixteen seventeen eighteen nineteen""".split()
TENS_WORDS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
ORDINALS = """third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth""".split()
SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
NUMBER_WORDS: dict[str, int] = {
    **{w: i for i, w in enumerate(UNITS_WORDS)},
    **{w: 20 + 10 * i for i, w in enumerate(TENS_WORDS)},
    **{w: 3 + i for i, w in enumerate(ORDINALS)},
}

# Words linking two things whose order matters: "list to string", "dog heavier than cat".
LINKS = set("to into onto than over from with in before after then → ->".split())
LINK_NAMES = {"into": "to", "onto": "to", "→": "to", "->": "to"}
# A unit after one of these is the unit asked for: "... to miles", "how many cups is 200 g".
CONVERSION = {"to", "into", "in", "from"}
HOW_MANY = {"is", "are", "in", "per", "to", "equal", "equals", "make", "makes", "="}
# Operators between two numbers, read as the words the opposites list knows.
OPERATORS = {"+": "plus", "-": "minus", "\u2212": "minus", "\u2013": "minus", "*": "times",
             "\u00d7": "times", "x": "times", "÷": "divided", "/": "divided"}  # fmt: skip
# Contractions dropped from a word: "what's" is "what", "France's" is "France".
SUFFIXES = ("'s", "'re", "'ll", "'ve", "'d", "'m")


def _poles(rows: str) -> dict[str, list[tuple[int, int]]]:
    """{word or phrase: [(group, pole), ...]} from the OPPOSITES rows."""
    table: dict[str, list[tuple[int, int]]] = {}
    lines = rows.replace("\n    ", " ").strip().splitlines()
    for group, row in enumerate([*lines, "at least | at most"]):  # idioms, not least/most
        for pole, words in enumerate(row.split("|")):
            for word in words.split(","):
                table.setdefault(word.strip(), []).append((group, pole))
    return table


POLES = _poles(OPPOSITES)
