"""Reading channel payload values into the normalized order's types.

Every reader takes the value and the field path it came from (`line_items[1].price`), so a
refusal names the field. Nothing here goes through `float`:

- Money arrives as text (`"24.99"`, eBay's unpadded `"19.0"`), as a JSON number (Walmart
  `24.88`, WooCommerce line `price`) or, when ingestion parses the body with
  `json.loads(..., parse_float=Decimal)` as the API does, already as `Decimal`. A float that
  reaches us anyway (a caller used plain `json.loads`) is read through `repr`, which is the
  shortest text that round-trips, so `17.99` becomes `Decimal("17.99")`, never
  `17.989999999999998436805981327779591083526611328125`.
- Amounts are kept exact and quantized to the currency's minor unit, half up, only where a
  normalized value is produced (a WooCommerce tax-inclusive subtotal may carry 4+ decimals).
- Quantities are ints; Walmart sends them as strings (`"3"`).
- Times become aware UTC datetimes: ISO 8601 with `Z` or an offset (Shopify's shop-local
  `-05:00`), epoch milliseconds (Walmart), and naive text only where the channel documents
  it as UTC (WooCommerce `*_gmt`).
"""

import re
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from orders.adapters.base import AdapterError, ServiceLevel

# ISO 4217 currencies whose minor unit is not 2 decimals. Orders store 2 decimals, so a
# 3-decimal currency cannot be kept exactly and is refused rather than rounded.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND"}
    | {"VUV", "XAF", "XOF", "XPF"}
)
THREE_DECIMAL_CURRENCIES = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})

# ISO 3166-1 alpha-3 → alpha-2 (generated from the iso-codes package), packed as AAABB.
_ALPHA3 = (
    "ABWAW AFGAF AGOAO AIAAI ALAAX ALBAL ANDAD AREAE ARGAR ARMAM ASMAS ATAAQ ATFTF ATGAG AUSAU "
    "AUTAT AZEAZ BDIBI BELBE BENBJ BESBQ BFABF BGDBD BGRBG BHRBH BHSBS BIHBA BLMBL BLRBY BLZBZ "
    "BMUBM BOLBO BRABR BRBBB BRNBN BTNBT BVTBV BWABW CAFCF CANCA CCKCC CHECH CHLCL CHNCN CIVCI "
    "CMRCM CODCD COGCG COKCK COLCO COMKM CPVCV CRICR CUBCU CUWCW CXRCX CYMKY CYPCY CZECZ DEUDE "
    "DJIDJ DMADM DNKDK DOMDO DZADZ ECUEC EGYEG ERIER ESHEH ESPES ESTEE ETHET FINFI FJIFJ FLKFK "
    "FRAFR FROFO FSMFM GABGA GBRGB GEOGE GGYGG GHAGH GIBGI GINGN GLPGP GMBGM GNBGW GNQGQ GRCGR "
    "GRDGD GRLGL GTMGT GUFGF GUMGU GUYGY HKGHK HMDHM HNDHN HRVHR HTIHT HUNHU IDNID IMNIM INDIN "
    "IOTIO IRLIE IRNIR IRQIQ ISLIS ISRIL ITAIT JAMJM JEYJE JORJO JPNJP KAZKZ KENKE KGZKG KHMKH "
    "KIRKI KNAKN KORKR KWTKW LAOLA LBNLB LBRLR LBYLY LCALC LIELI LKALK LSOLS LTULT LUXLU LVALV "
    "MACMO MAFMF MARMA MCOMC MDAMD MDGMG MDVMV MEXMX MHLMH MKDMK MLIML MLTMT MMRMM MNEME MNGMN "
    "MNPMP MOZMZ MRTMR MSRMS MTQMQ MUSMU MWIMW MYSMY MYTYT NAMNA NCLNC NERNE NFKNF NGANG NICNI "
    "NIUNU NLDNL NORNO NPLNP NRUNR NZLNZ OMNOM PAKPK PANPA PCNPN PERPE PHLPH PLWPW PNGPG POLPL "
    "PRIPR PRKKP PRTPT PRYPY PSEPS PYFPF QATQA REURE ROURO RUSRU RWARW SAUSA SDNSD SENSN SGPSG "
    "SGSGS SHNSH SJMSJ SLBSB SLESL SLVSV SMRSM SOMSO SPMPM SRBRS SSDSS STPST SURSR SVKSK SVNSI "
    "SWESE SWZSZ SXMSX SYCSC SYRSY TCATC TCDTD TGOTG THATH TJKTJ TKLTK TKMTM TLSTL TONTO TTOTT "
    "TUNTN TURTR TUVTV TWNTW TZATZ UGAUG UKRUA UMIUM URYUY USAUS UZBUZ VATVA VCTVC VENVE VGBVG "
    "VIRVI VNMVN VUTVU WLFWF WSMWS YEMYE ZAFZA ZMBZM ZWEZW"
)
ALPHA3_TO_ALPHA2 = {entry[:3]: entry[3:] for entry in _ALPHA3.split()}
# "UK" is not ISO 3166 but marketplaces use it for GB; "XK" (Kosovo) is user-assigned.
ALPHA2 = frozenset(ALPHA3_TO_ALPHA2.values()) | {"XK"}
ALPHA2_ALIASES = {"UK": "GB"}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def path(parent: str, key: str | int) -> str:
    """`path("line_items", 2)` → `line_items[2]`; `path("order", "id")` → `order.id`."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def dig(payload, dotted: str):
    """The value at `a.b.c`, or None when any step is missing or not an object."""
    value = payload
    for key in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def check_shape(payload, channel: str, required: tuple[str, ...], *, prefix: str = "") -> None:
    """Refuse a payload that is not this channel's order (e.g. another channel's sample)."""
    if not isinstance(payload, dict):
        raise AdapterError(f"A {channel} order must be a JSON object.", code="wrong_shape")
    missing = [prefix + dotted for dotted in required if dig(payload, dotted) in (None, "")]
    if missing:
        raise AdapterError(
            f"This is not a {channel} order: missing {', '.join(missing)}.",
            field=missing[0],
            code="wrong_shape",
        )


def required(mapping: dict, key: str, where: str):
    value = mapping.get(key) if isinstance(mapping, dict) else None
    if value is None or value == "":
        raise AdapterError(f"{where} is required.", field=where, code="required")
    return value


def obj(value, where: str) -> dict:
    """An optional JSON object: None reads as {}, anything else but an object is refused."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AdapterError(f"{where} must be an object.", field=where, code="invalid")
    return value


def items(value, where: str, *, required_non_empty: bool = False) -> list:
    if value is None:
        value = []
    if not isinstance(value, list):
        raise AdapterError(f"{where} must be a list.", field=where, code="invalid")
    if required_non_empty and not value:
        raise AdapterError(f"{where} has no entries.", field=where, code="required")
    return value


def text(value) -> str:
    """Display text: None → "", numbers (Shopify's integer ids) → their digits."""
    if value is None:
        return ""
    return str(value).strip()


def identifier(value, where: str) -> str:
    """A channel id: text or an integer (Shopify's numeric ids), as text."""
    if value is None or text(value) == "":
        raise AdapterError(f"{where} is required.", field=where, code="required")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise AdapterError(f"{where} must be text or an integer.", field=where, code="invalid")
    return text(value)


def decimal_value(value, where: str) -> Decimal:
    """An exact Decimal from text, int, Decimal or (defensively) float; never via float math."""
    if isinstance(value, bool) or value is None:
        raise AdapterError(f"{where} is not an amount.", field=where, code="invalid")
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError):
        raise AdapterError(
            f"{where} is not an amount: {value!r}.", field=where, code="invalid"
        ) from None
    if not number.is_finite():
        raise AdapterError(f"{where} is not a finite amount.", field=where, code="invalid")
    return number


def minor_unit(currency: str) -> Decimal:
    if currency in ZERO_DECIMAL_CURRENCIES:
        return Decimal("1")
    return Decimal("0.01")


def currency_code(value, where: str) -> str:
    code = text(value).upper()
    if len(code) != 3 or not code.isalpha():
        raise AdapterError(f"{where} is not an ISO 4217 code: {value!r}.", field=where)
    if code in THREE_DECIMAL_CURRENCIES:
        raise AdapterError(
            f"{code} has 3 decimals; orders keep 2.", field=where, code="unsupported_currency"
        )
    return code


def money(value, where: str, currency: str) -> Decimal:
    """An amount in `currency`, rounded half up to its minor unit (cents for most)."""
    return decimal_value(value, where).quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def optional_money(value, where: str, currency: str) -> Decimal:
    return money(0 if value in (None, "") else value, where, currency)


def amount_in(
    container, where: str, currency: str, *, amount_key: str, currency_key: str, default=None
) -> Decimal:
    """A channel money object ({"Amount", "CurrencyCode"}, {"value", "currency"}, …) in the
    order's currency. A missing object gives `default`, or is refused when default is None."""
    if container is None and default is not None:
        return default
    container = obj(container, where)
    value = required(container, amount_key, path(where, amount_key))
    stated = container.get(currency_key)
    if stated and text(stated).upper() != currency:
        raise AdapterError(
            f"{where} is in {stated}, the order in {currency}.",
            field=path(where, currency_key),
            code="currency_mismatch",
        )
    return money(value, path(where, amount_key), currency)


def per_unit(line_total: Decimal, quantity: int, currency: str) -> tuple[Decimal, Decimal]:
    """Unit price from a whole-line amount (Amazon ItemPrice, eBay lineItemCost, Woo subtotal).

    Rounded half up to the minor unit; the remainder (line total − unit × quantity, at most
    half a cent per unit) is returned so the adapter can record it: 10.00 for 3 → 3.33 and
    a remainder of 0.01 that the line total, not the unit price, keeps.
    """
    unit = (line_total / quantity).quantize(minor_unit(currency), rounding=ROUND_HALF_UP)
    return unit, line_total - unit * quantity


def whole_number(value, where: str, *, minimum: int = 0) -> int:
    """A whole number of units from an int or its text ("3"); below `minimum` is refused."""
    if isinstance(value, bool) or value is None:
        raise AdapterError(f"{where} is required.", field=where, code="required")
    number = decimal_value(value, where)
    if number != number.to_integral_value():
        raise AdapterError(f"{where} must be a whole number: {value!r}.", field=where)
    if number < minimum:
        raise AdapterError(
            f"{where} must be at least {minimum}, got {value}.", field=where, code="min_value"
        )
    return int(number)


def quantity(value, where: str) -> int:
    """An ordered quantity: a whole number of at least 1."""
    return whole_number(value, where, minimum=1)


def rounding_note(line_id: str, line_total: Decimal, count: int, unit: Decimal, rest: Decimal):
    """What `extra["unit_price_rounding"]` records when a line total does not divide evenly."""
    return {
        "line": line_id,
        "line_total": str(line_total),
        "quantity": count,
        "unit_price": str(unit),
        "remainder": str(rest),
    }


def utc_datetime(value, where: str, *, naive_is_utc: bool = False) -> datetime:
    """Aware UTC from ISO 8601 text or epoch milliseconds (Walmart, also as digit text).

    Naive text is refused unless the channel documents it as UTC (WooCommerce `*_gmt`):
    guessing a zone would shift every promise by hours.
    """
    if isinstance(value, bool) or value in (None, ""):
        raise AdapterError(f"{where} is required.", field=where, code="required")
    if isinstance(value, int | float | Decimal) or (isinstance(value, str) and value.isdigit()):
        millis = int(decimal_value(value, where))
        try:
            return EPOCH + timedelta(milliseconds=millis)
        except OverflowError:
            raise AdapterError(f"{where} is not a timestamp: {value!r}.", field=where) from None
    if not isinstance(value, str) or len(value.strip()) <= 10:
        raise AdapterError(f"{where} is not a date and time: {value!r}.", field=where)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise AdapterError(f"{where} is not ISO 8601: {value!r}.", field=where) from None
    if moment.tzinfo is None:
        if not naive_is_utc:
            raise AdapterError(
                f"{where} has no UTC offset: {value!r}.", field=where, code="naive_datetime"
            )
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def optional_utc_datetime(value, where: str, *, naive_is_utc: bool = False) -> datetime | None:
    if value in (None, ""):
        return None
    return utc_datetime(value, where, naive_is_utc=naive_is_utc)


def country_code(value, where: str) -> str:
    """ISO 3166-1 alpha-2 from alpha-2 or alpha-3 (Walmart's "USA"); "" when absent."""
    code = text(value).upper()
    if not code:
        return ""
    code = ALPHA3_TO_ALPHA2.get(code, ALPHA2_ALIASES.get(code, code))
    if code not in ALPHA2:
        raise AdapterError(
            f"{where} is not an ISO country code: {value!r}.", field=where, code="invalid_country"
        )
    return code


# Checked in order: the first pattern found in a carrier/service text decides. Codes are
# camel case ("UPS2ndDay", "USPSPriorityMailExpress"), so digits are guarded, not words.
_SERVICE_PATTERNS = (
    (ServiceLevel.SAME_DAY, re.compile(r"same[ -]?day")),
    (ServiceLevel.NEXT_DAY, re.compile(r"next[ -]?day|overnight|(?<!\d)(one|1)[ -]?day")),
    (ServiceLevel.EXPEDITED, re.compile(r"expedited|express|(?<!\d)(2nd|second|two|2)[ -]?day")),
    (ServiceLevel.ECONOMY, re.compile(r"economy|\bvalue\b|media")),
)


def service_level_from_text(*texts: str) -> str:
    """Free-text shipping method names (Shopify, WooCommerce, eBay codes) → ServiceLevel.

    Unknown names are STANDARD: a guess of "faster" would pull orders forward for nothing.
    """
    haystack = " ".join(text(value).lower() for value in texts)
    for level, pattern in _SERVICE_PATTERNS:
        if pattern.search(haystack):
            return level
    return ServiceLevel.STANDARD


def risk_from_fraction(value, where: str) -> Decimal:
    """A 0–1 channel risk score (Shopify OrderRisk.score) as 0–100 with 2 decimals."""
    score = decimal_value(value, where)
    if not 0 <= score <= 1:
        raise AdapterError(f"{where} must be between 0 and 1.", field=where)
    return (score * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
