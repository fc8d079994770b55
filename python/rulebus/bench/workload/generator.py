"""The citylots2-shaped events of ``rulebus bench``: San Francisco lots as one-line GeoJSON.

The real citylots2 file (a dump of San Francisco's city lots that EventBridge-pattern engines
are benchmarked on) is not redistributable here, so the benchmark makes its own stand-in with the
same line schema: a Feature whose properties name the lot (MAPBLKLOT, BLKLOT, BLOCK_NUM,
LOT_NUM), its street and house numbers (FROM_ST, TO_ST, STREET, ST_TYPE, ODD_EVEN) and whose
geometry is a Polygon (now and then a MultiPolygon) with its first vertex repeated as
``firstCoordinates``. Lots come block by block in MAPBLKLOT order, as in the real file; most rings
are small, a few have hundreds or thousands of vertices.

The output is a pure function of the seed: only ``random.Random(SEED).random()`` and
``randrange`` are drawn (their algorithms are fixed for integer seeds since Python 3.2), only
IEEE arithmetic (+, -, *) is done on floats, and floats are written with ``repr`` (the shortest
round-tripping form), so every machine and every Python from 3.9 writes the same bytes. Events
are produced one after another, so the first k events do not depend on how many are asked for.

No coordinate falls within ``MARGIN`` of a value the rule sets compare against (other than the
few planted equal on purpose): the counts then do not depend on how precisely an engine compares
numbers (EventBridge documents six digits after the decimal point).
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator
from pathlib import Path
from random import Random

EVENTS = 200_000
SEED = 20261206
# The x and y values the citylots2 rule sets compare coordinates with (see rulesets.json).
X_THRESHOLDS = (-122.46471267081272, -122.42916360922355, -122.41600944012424, -122.4063085128395)
X_EQUAL = -122.42916360922355
Y_EQUAL = 37.729900216217324
MARGIN = 1e-5
WEST, EAST = -122.5149, -122.3569
SOUTH, NORTH = 37.7080, 37.8320

# Street names with weights: a lot's block has one street, a few lots face another.
STREETS: tuple[tuple[str, int], ...] = (
    ("MISSION", 40),
    ("HARRISON", 30),
    ("JACKSON", 28),
    ("WASHINGTON", 26),
    ("CLAYTON", 8),
    ("FULTON", 20),
    ("MASON", 24),
    ("MASONIC", 4),
    ("PRINCETON", 12),
    ("CARSON", 3),
    ("FUNSTON", 6),
    ("ACADIA", 1),
    ("BLAKE", 5),
    ("DRUMM", 1),
    ("DRUMMOND", 1),
    ("RHODE ISLAND", 4),
    ("JEFFERSON", 2),
    ("BEACH", 3),
    ("HYDE", 18),
    ("CHESTNUT", 9),
    ("LAKE", 5),
    ("FLEMING", 5),
    ("CUSHING", 12),
    ("SAN DIEGO", 7),
    ("17TH", 16),
    ("FOLSOM", 14),
    ("GREENWICH", 10),
    ("TURK", 9),
    ("OCTAVIA", 8),
    ("UNKNOWN", 8),
    ("VALENCIA", 12),
    ("GEARY", 15),
    ("CALIFORNIA", 15),
    ("PACIFIC", 10),
    ("BROADWAY", 9),
    ("HAIGHT", 9),
    ("IRVING", 11),
    ("JUDAH", 11),
    ("NORIEGA", 11),
    ("TARAVAL", 11),
    ("ULLOA", 8),
    ("VICENTE", 8),
    ("SLOAT", 6),
    ("OCEAN", 10),
    ("GENEVA", 8),
    ("SILVER", 6),
    ("PORTOLA", 5),
    ("CLEMENT", 9),
    ("BALBOA", 9),
    ("ANZA", 8),
    ("CABRILLO", 8),
    ("POTRERO", 6),
    ("VERMONT", 6),
    ("KANSAS", 6),
    ("DOLORES", 9),
    ("CHURCH", 10),
    ("SANCHEZ", 8),
    ("NOE", 7),
    ("CASTRO", 8),
    ("DIAMOND", 6),
    ("24TH", 12),
    ("ARMY", 3),
    ("BRYANT", 10),
    ("YORK", 6),
    ("ALABAMA", 5),
    ("FLORIDA", 5),
    ("SHOTWELL", 4),
    ("HOWARD", 9),
    ("NATOMA", 4),
    ("LARKIN", 8),
    ("POLK", 9),
    ("VAN NESS", 8),
    ("FRANKLIN", 7),
    ("GOUGH", 7),
    ("LAGUNA", 7),
    ("BUCHANAN", 7),
    ("WEBSTER", 7),
    ("FILLMORE", 8),
    ("STEINER", 7),
    ("PIERCE", 7),
    ("SCOTT", 7),
    ("DIVISADERO", 7),
    ("BAKER", 6),
    ("LYON", 5),
    ("STANYAN", 4),
    ("ARGUELLO", 6),
    ("COLE", 5),
    ("ASHBURY", 4),
)
# Street types with weights; None is written as JSON null (a lot with no street type).
ST_TYPES: tuple[tuple[str | None, int], ...] = (
    ("ST", 540),
    ("AVE", 250),
    ("BLVD", 25),
    ("WAY", 30),
    ("TER", 25),
    ("CT", 12),
    ("DR", 15),
    ("PL", 12),
    ("LN", 8),
    ("RD", 8),
    ("CIR", 4),
    ("HWY", 3),
    ("ALY", 8),
    ("STWY", 1),
    (None, 60),
)
# MAPBLKLOT values that repeat, as condominium units sharing one lot number do.
CONDOS = {"1430022": 1, "2607117": 88, "2607218": 42, "3745012": 540}
# Lots with no block number (vacated streets), at the end of the file as in MAPBLKLOT order.
VACATED = ("VACSTWIL", "VACSTXYZ")
# Blocks made large enough to hold the lots above.
LARGE_BLOCKS = {1430: 30, 2607: 230, 3745: 20}


class _Draw:
    """The few draws the generator makes, each from ``Random.random`` or ``randrange`` only."""

    def __init__(self, seed: int) -> None:
        self._rng = Random(seed)
        self.random = self._rng.random
        self.below = self._rng.randrange

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def weighted(self, table: tuple[tuple[str | None, int], ...], total: int) -> str | None:
        pick = self.below(total)
        for value, weight in table:
            if pick < weight:
                return value
            pick -= weight
        raise AssertionError("weights do not add up")

    def geometric(self, keep: float, cap: int) -> int:
        """How many times in a row ``random() < keep``, at most ``cap`` (no logarithm needed)."""
        n = 0
        while n < cap and self.random() < keep:
            n += 1
        return n


def _clear_of(value: float, marks: tuple[float, ...]) -> float:
    """The value, moved off any mark it falls within MARGIN of."""
    for mark in marks:
        if abs(value - mark) < MARGIN:
            return mark + 2 * MARGIN if value >= mark else mark - 2 * MARGIN
    return value


def _vertex(x: float, y: float) -> str:
    return f'{{"x":{x!r},"y":{y!r},"z":0.0}}'


def _string(value: str | None) -> str:
    return "null" if value is None else '"' + value + '"'  # names are plain ASCII: nothing to escape


class _Lots:
    """The lots, block by block, as JSON lines."""

    def __init__(self) -> None:
        self.draw = _Draw(SEED)
        self.street_total = sum(w for _, w in STREETS)
        self.type_total = sum(w for _, w in ST_TYPES)
        self.produced = 0

    def blocks(self) -> Iterator[bytes]:
        block = 1
        while True:
            yield from self.block(block, "")
            for letter in "AB":  # a block split in lettered parts, as "3723A"
                if self.draw.random() < (0.35 if letter == "A" else 0.12):
                    yield from self.block(block, letter)
            block += 1 if self.draw.random() < 0.95 else 2
            if block > 9999:
                block = 1

    def block(self, number: int, letter: str) -> Iterator[bytes]:
        draw = self.draw
        block_num = f"{number:04d}{letter}"
        lots = 1 + draw.geometric(0.925, 400)
        if not letter:
            lots = max(lots, LARGE_BLOCKS.get(number, 0))
        street = draw.weighted(STREETS, self.street_total)
        st_type = draw.weighted(ST_TYPES, self.type_total)
        x = draw.uniform(WEST + 0.002, EAST - 0.002)
        y = draw.uniform(SOUTH + 0.002, NORTH - 0.002)
        house = 2 * draw.below(1200)
        for lot in range(1, lots + 1):
            mapblklot = f"{block_num}{lot:03d}"
            units = CONDOS.get(mapblklot, 1 if draw.random() < 0.975 else 2 + draw.geometric(0.8, 60))
            corner = draw.random() < 0.15
            lot_street = draw.weighted(STREETS, self.street_total) if corner else street
            lot_type = draw.weighted(ST_TYPES, self.type_total) if corner else st_type
            house += 2 * (1 + draw.below(4))
            for _ in range(units):
                yield self.line(block_num, f"{lot:03d}", mapblklot, lot_street, lot_type, house, x, y)

    def line(
        self,
        block_num: str,
        lot_num: str,
        mapblklot: str,
        street: str | None,
        st_type: str | None,
        house: int,
        block_x: float,
        block_y: float,
    ) -> bytes:
        draw = self.draw
        self.produced += 1
        blklot = mapblklot if draw.random() < 0.8 else f"{block_num}{1 + draw.below(998):03d}"
        if draw.random() < 0.12:
            from_st, to_st = "0", "0"
        else:
            from_st = str(house if draw.random() < 0.8 else house + 1)
            to_st = str(int(from_st) + (0, 0, 2, 4, 10)[draw.below(5)])
        odd_even = "E" if int(from_st) % 2 == 0 else "O"
        properties = (
            f'{{"MAPBLKLOT":"{mapblklot}","BLKLOT":"{blklot}","BLOCK_NUM":"{block_num}",'
            f'"LOT_NUM":"{lot_num}","FROM_ST":"{from_st}","TO_ST":"{to_st}","STREET":{_string(street)},'
            f'"ST_TYPE":{_string(st_type)},"ODD_EVEN":"{odd_even}"}}'
        )
        x0 = _clear_of(block_x + draw.uniform(-0.0015, 0.0015), X_THRESHOLDS)
        y0 = _clear_of(block_y + draw.uniform(-0.0015, 0.0015), (Y_EQUAL,))
        if draw.random() < 0.00002:
            x0 = X_EQUAL  # planted: a first vertex the NUMERIC set's "=" rule matches
        if self.produced % 150_000 == 0:
            vertices = 10_000  # the one parcel with ten thousand vertices
        elif draw.random() < 0.003:
            vertices = min(200 + int(200 * draw.random() / (1.0 - draw.random() + 0.04)), 5000)
        else:
            vertices = 4 + draw.geometric(0.78, 150)
        ring = [(x0, y0)]
        for _ in range(vertices - 1):
            vx = _clear_of(x0 + draw.uniform(-0.0004, 0.0004), X_THRESHOLDS)
            vy = _clear_of(y0 + draw.uniform(-0.0004, 0.0004), (Y_EQUAL,))
            ring.append((vx, vy))
        if draw.random() < 0.001:
            ring[1 + draw.below(len(ring) - 1)] = (X_EQUAL, y0 + 0.0001)  # planted: an inner vertex
        ring.append((x0, y0))
        first = ",".join(_vertex(vx, vy) for vx, vy in ring)
        if draw.random() < 0.0008:
            kind = "MultiPolygon"
            second_ring = [
                (_clear_of(vx + 0.001, X_THRESHOLDS), _clear_of(vy + 0.001, (Y_EQUAL,))) for vx, vy in ring
            ]
            if draw.random() < 0.05:
                second_ring[1] = (second_ring[1][0], Y_EQUAL)  # planted: the y some rules look for
            second = ",".join(_vertex(vx, vy) for vx, vy in second_ring)
            coordinates = f"[[[{first}]],[[{second}]]]"
        else:
            kind = "Polygon"
            coordinates = f"[[{first}]]"
        return (
            f'{{"type":"Feature","properties":{properties},"geometry":{{"type":"{kind}",'
            f'"coordinates":{coordinates},"firstCoordinates":{_vertex(x0, y0)}}}}}'
        ).encode()


def lines(events: int = EVENTS) -> Iterator[bytes]:
    """The events as JSON lines (without the newline); the first k the same whatever ``events``."""
    if events < len(VACATED):
        raise ValueError(f"at least {len(VACATED)} events")
    lots = _Lots().blocks()
    for _ in range(events - len(VACATED)):
        yield next(lots)
    # The vacated streets sort last and carry the properties of no block.
    for name in VACATED:
        corners = [(-122.4105, 37.7790), (-122.4103, 37.7790), (-122.4103, 37.7792), (-122.4105, 37.7790)]
        ring = ",".join(_vertex(x, y) for x, y in corners)
        yield (
            f'{{"type":"Feature","properties":{{"MAPBLKLOT":"{name}","BLKLOT":"{name}","BLOCK_NUM":null,'
            '"LOT_NUM":null,"FROM_ST":null,"TO_ST":null,"STREET":null,"ST_TYPE":null,"ODD_EVEN":null},'
            f'"geometry":{{"type":"Polygon","coordinates":[[{ring}]],"firstCoordinates":{_vertex(*corners[0])}}}}}'
        ).encode()


def write(path: Path, events: int = EVENTS) -> str:
    """The events into a gzip file (whole or not at all); the sha256 of the uncompressed lines."""
    digest = hashlib.sha256()
    partial = path.with_name(path.name + ".partial")
    try:
        with gzip.GzipFile(partial, "wb", compresslevel=6, mtime=0) as out:
            for line in lines(events):
                data = line + b"\n"
                digest.update(data)
                out.write(data)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return digest.hexdigest()
