"""How long X says a post is (twitter-text v3's weighted length), and grapheme clusters.

X normalises a post to NFC, then counts each code point as 2, except code points in four
ranges that count 1 (U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F, U+2032–U+2037).
Every URL counts 23 — bare domains too, when the top-level domain is a real one — and
each emoji sequence counts 2 however many code points it has. The limit is 280.

The URL and emoji rules follow the official twitter-text 3.1 (npm) behaviour, learned from
its documentation and checked against it as a black box: its emoji list is Emoji 11.0
(twemoji 11), so a newer sequence such as ❤️‍🔥 counts as its parts (2 + 1 + 2), which can
only over-count, never under-count, against X's own servers.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from array import array
from bisect import bisect_left
from functools import cache
from itertools import accumulate

MAX_WEIGHTED_LENGTH = 280
URL_LENGTH = 23  # what a t.co link counts, however long the real address
# In code units: a character outside the light ranges, or an astral pair (which weighs 2).
_PAIR = "[\ud800-\udbff][\udc00-\udfff]"
_HEAVY = re.compile(f"{_PAIR}|[^\x00-\u10ff\u2000-\u200d\u2010-\u201f\u2032-\u2037]")
_FORBIDDEN = frozenset("\ufffe\ufeff\uffff")  # X rejects a post containing these
_MAX_URL = 4096  # twitter-text ignores longer addresses (counted with the scheme)
_MAX_TCO_SLUG = 40
_UTF16 = "utf-16-le" if sys.byteorder == "little" else "utf-16-be"


def _weight(units: str) -> int:
    """The weight of plain text given as code units: 1 or 2 a character."""
    return len(units) - len(re.findall(_PAIR, units)) + len(_HEAVY.findall(units))


# --- URLs ----------------------------------------------------------------------------------
# The top-level domains twitter-text 3.1 recognises: IANA's root zone of its day, so with
# brands retired since (.linde) and without later names (.music), which are no links there.
_TLDS = (
    "aaa aarp abarth abb abbott abbvie abc able abogado abudhabi ac academy accenture accountant "
    "accountants aco active actor ad adac ads adult ae aeg aero aetna af afamilycompany afl "
    "africa ag agakhan agency ai aig aigo airbus airforce airtel akdn al alfaromeo alibaba alipay "
    "allfinanz allstate ally alsace alstom am americanexpress americanfamily amex amfam amica "
    "amsterdam an analytics android anquan anz ao aol apartments app apple aq aquarelle ar arab "
    "aramco archi army arpa art arte as asda asia associates at athleta attorney au auction audi "
    "audible audio auspost author auto autos avianca aw aws ax axa az azure ba baby baidu banamex "
    "bananarepublic band bank bar barcelona barclaycard barclays barefoot bargains baseball "
    "basketball bauhaus bayern bb bbc bbt bbva bcg bcn bd be beats beauty beer bentley berlin "
    "best bestbuy bet bf bg bh bharti bi bible bid bike bing bingo bio biz bj bl black "
    "blackfriday blanco blockbuster blog bloomberg blue bm bms bmw bn bnl bnpparibas bo boats "
    "boehringer bofa bom bond boo book booking boots bosch bostik boston bot boutique box bq br "
    "bradesco bridgestone broadway broker brother brussels bs bt budapest bugatti build builders "
    "business buy buzz bv bw by bz bzh ca cab cafe cal call calvinklein cam camera camp "
    "cancerresearch canon capetown capital capitalone car caravan cards care career careers cars "
    "cartier casa case caseih cash casino cat catering catholic cba cbn cbre cbs cc cd ceb center "
    "ceo cern cf cfa cfd cg ch chanel channel charity chase chat cheap chintai chloe christmas "
    "chrome chrysler church ci cipriani circle cisco citadel citi citic city cityeats ck cl "
    "claims cleaning click clinic clinique clothing cloud club clubmed cm cn co coach codes "
    "coffee college cologne com comcast commbank community company compare computer comsec condos "
    "construction consulting contact contractors cooking cookingchannel cool coop corsica country "
    "coupon coupons courses cpa cr credit creditcard creditunion cricket crown crs cruise cruises "
    "csc cu cuisinella cv cw cx cy cymru cyou cz dabur dad dance data date dating datsun day dclk "
    "dds de deal dealer deals degree delivery dell deloitte delta democrat dental dentist desi "
    "design dev dhl diamonds diet digital direct directory discount discover dish diy dj dk dm "
    "dnp do docs doctor dodge dog doha domains doosan dot download drive dtv dubai duck dunlop "
    "duns dupont durban dvag dvr dz earth eat ec eco edeka edu education ee eg eh email emerck "
    "energy engineer engineering enterprises epost epson equipment er ericsson erni es esq estate "
    "esurance et etisalat eu eurovision eus events everbank exchange expert exposed express "
    "extraspace fage fail fairwinds faith family fan fans farm farmers fashion fast fedex "
    "feedback ferrari ferrero fi fiat fidelity fido film final finance financial fire firestone "
    "firmdale fish fishing fit fitness fj fk flickr flights flir florist flowers flsmidth fly fm "
    "fo foo food foodnetwork football ford forex forsale forum foundation fox fr free fresenius "
    "frl frogans frontdoor frontier ftr fujitsu fujixerox fun fund furniture futbol fyi ga gal "
    "gallery gallo gallup game games gap garden gay gb gbiz gd gdn ge gea gent genting george gf "
    "gg ggee gh gi gift gifts gives giving gl glade glass gle global globo gm gmail gmbh gmo gmx "
    "gn godaddy gold goldpoint golf goo goodhands goodyear goog google gop got gov gp gq gr "
    "grainger graphics gratis green gripe grocery group gs gt gu guardian gucci guge guide "
    "guitars guru gw gy hair hamburg hangout haus hbo hdfc hdfcbank health healthcare help "
    "helsinki here hermes hgtv hiphop hisamitsu hitachi hiv hk hkt hm hn hockey holdings holiday "
    "homedepot homegoods homes homesense honda honeywell horse hospital host hosting hot hoteles "
    "hotels hotmail house how hr hsbc ht htc hu hughes hyatt hyundai ibm icbc ice icu id ie ieee "
    "ifm iinet ikano il im imamat imdb immo immobilien in inc industries infiniti info ing ink "
    "institute insurance insure int intel international intuit investments io ipiranga iq ir "
    "irish is iselect ismaili ist istanbul it itau itv iveco iwc jaguar java jcb jcp je jeep "
    "jetzt jewelry jio jlc jll jm jmp jnj jo jobs joburg jot joy jp jpmorgan jprs juegos juniper "
    "kaufen kddi ke kerryhotels kerrylogistics kerryproperties kfh kg kh ki kia kim kinder kindle "
    "kitchen kiwi km kn koeln komatsu kosher kp kpmg kpn kr krd kred kuokgroup kw ky kyoto kz la "
    "lacaixa ladbrokes lamborghini lamer lancaster lancia lancome land landrover lanxess lasalle "
    "lat latino latrobe law lawyer lb lc lds lease leclerc lefrak legal lego lexus lgbt li "
    "liaison lidl life lifeinsurance lifestyle lighting like lilly limited limo lincoln linde "
    "link lipsy live living lixil lk llc llp loan loans locker locus loft lol london lotte lotto "
    "love lpl lplfinancial lr ls lt ltd ltda lu lundbeck lupin luxe luxury lv ly ma macys madrid "
    "maif maison makeup man management mango map market marketing markets marriott marshalls "
    "maserati mattel mba mc mcd mcdonalds mckinsey md me med media meet melbourne meme memorial "
    "men menu meo merckmsd metlife mf mg mh miami microsoft mil mini mint mit mitsubishi mk ml "
    "mlb mls mm mma mn mo mobi mobile mobily moda moe moi mom monash money monster montblanc "
    "mopar mormon mortgage moscow moto motorcycles mov movie movistar mp mq mr ms msd mt mtn mtpc "
    "mtr mu museum mutual mutuelle mv mw mx my mz na nab nadex nagoya name nationwide natura navy "
    "nba nc ne nec net netbank netflix network neustar new newholland news next nextdirect nexus "
    "nf nfl ng ngo nhk ni nico nike nikon ninja nissan nissay nl no nokia northwesternmutual "
    "norton now nowruz nowtv np nr nra nrw ntt nu nyc nz obi observer off office okinawa olayan "
    "olayangroup oldnavy ollo om omega one ong onion onl online onyourside ooo open oracle orange "
    "org organic orientexpress origins osaka otsuka ott ovh pa page pamperedchef panasonic "
    "panerai paris pars partners parts party passagens pay pccw pe pet pf pfizer pg ph pharmacy "
    "phd philips phone photo photography photos physio piaget pics pictet pictures pid pin ping "
    "pink pioneer pizza pk pl place play playstation plumbing plus pm pn pnc pohl poker politie "
    "porn post pr pramerica praxi press prime pro prod productions prof progressive promo "
    "properties property protection pru prudential ps pt pub pw pwc py qa qpon quebec quest qvc "
    "racing radio raid re read realestate realtor realty recipes red redstone redumbrella rehab "
    "reise reisen reit reliance ren rent rentals repair report republican rest restaurant review "
    "reviews rexroth rich richardli ricoh rightathome ril rio rip rmit ro rocher rocks rodeo "
    "rogers room rs rsvp ru rugby ruhr run rw rwe ryukyu sa saarland safe safety sakura sale "
    "salon samsclub samsung sandvik sandvikcoromant sanofi sap sapo sarl sas save saxo sb sbi sbs "
    "sc sca scb schaeffler schmidt scholarships school schule schwarz science scjohnson scor scot "
    "sd se search seat secure security seek select sener services ses seven sew sex sexy sfr sg "
    "sh shangrila sharp shaw shell shia shiksha shoes shop shopping shouji show showtime shriram "
    "si silk sina singles site sj sk ski skin sky skype sl sling sm smart smile sn sncf so soccer "
    "social softbank software sohu solar solutions song sony soy space spiegel sport spot "
    "spreadbetting sr srl srt ss st stada staples star starhub statebank statefarm statoil stc "
    "stcgroup stockholm storage store stream studio study style su sucks supplies supply support "
    "surf surgery suzuki sv swatch swiftcover swiss sx sy sydney symantec systems sz tab taipei "
    "talk taobao target tatamotors tatar tattoo tax taxi tc tci td tdk team tech technology tel "
    "telecity telefonica temasek tennis teva tf tg th thd theater theatre tiaa tickets tienda "
    "tiffany tips tires tirol tj tjmaxx tjx tk tkmaxx tl tm tmall tn to today tokyo tools top "
    "toray toshiba total tours town toyota toys tp tr trade trading training travel travelchannel "
    "travelers travelersinsurance trust trv tt tube tui tunes tushu tv tvs tw tz ua ubank ubs "
    "uconnect ug uk um unicom university uno uol ups us uy uz va vacations vana vanguard vc ve "
    "vegas ventures verisign versicherung vet vg vi viajes video vig viking villas vin vip virgin "
    "visa vision vista vistaprint viva vivo vlaanderen vn vodka volkswagen volvo vote voting voto "
    "voyage vu vuelos wales walmart walter wang wanggou warman watch watches weather "
    "weatherchannel webcam weber website wed wedding weibo weir wf whoswho wien wiki williamhill "
    "win windows wine winners wme wolterskluwer woodside work works world wow ws wtc wtf xbox "
    "xerox xfinity xihuan xin xperia xxx xyz yachts yahoo yamaxun yandex ye yodobashi yoga "
    "yokohama you youtube yt yun za zappos zara zero zip zippo zm zone zuerich zw "
    "vermögensberater vermögensberatung ελ ευ бг бел дети ею католик ком мкд мон москва онлайн "
    "орг рус рф сайт срб укр қаз հայ קום ابوظبي اتصالات ارامكو الاردن البحرين الجزائر السعودية "
    "العليان المغرب امارات ایران بارت بازار بيتك بھارت تونس سودان سورية شبكة عراق عرب عمان فلسطين "
    "قطر كاثوليك كوم مصر مليسيا موبايلي موريتانيا موقع همراه پاکستان ڀارت कॉम नेट भारत भारतम् "
    "भारोत संगठन বাংলা ভারত ভাৰত ਭਾਰਤ ભારત ଭାରତ இந்தியா இலங்கை சிங்கப்பூர் భారత్ ಭಾರತ ഭാരതം ලංකා "
    "คอม ไทย ລາວ გე みんな クラウド グーグル コム ストア セール ファッション ポイント 世界 中信 "
    "中国 中國 中文网 企业 佛山 信息 健康 八卦 公司 公益 台湾 台灣 商城 商店 商标 嘉里 嘉里大酒店 "
    "在线 大众汽车 大拿 天主教 娱乐 家電 工行 广东 微博 慈善 我爱你 手机 手表 招聘 政务 政府 "
    "新加坡 新闻 时尚 書籍 机构 淡马锡 游戏 澳門 点看 珠宝 移动 组织机构 网址 网店 网站 网络 联通 "
    "诺基亚 谷歌 购物 通販 集团 電訊盈科 飞利浦 食品 餐厅 香格里拉 香港 닷넷 닷컴 삼성 한국"
)
# What no domain label may contain: ASCII punctuation (but "-" and "_", allowed between a
# label's letters), spaces, X's forbidden characters and bidirectional controls.
_NOT_DOMAIN = (
    r"!'#%&()*+,\\./:;<=>?@\[\]^{|}~$"
    "\t-\r \x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    "\ufffe\ufeff\uffff\u202a-\u202e\u061c\u200e\u200f\u2066-\u2069"
)
# Accented Latin letters, then those that JavaScript's case-insensitive matching (which
# compares capitals) lets in as well: ʒ matches because Ʒ is in U+0100–U+024F.
_LATIN = (
    "\xc0-\xd6\xd8-\xf6\xf8-\xff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b\u0263"
    "\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
    "\u0260\u0269\u0275\u0280\u0283\u0288\u028a\u028c\u0292\u0399\u03b9\u1fbe\u2c65\u2c66"
    "\u2c7e\u2c7f"
)
_CYRILLIC = "\u0400-\u04ff\u1c80-\u1c87"
_PATH_CHAR = rf"[a-z{_CYRILLIC}0-9!*';:=+,.$/%#\[\]\-\u2013_~@|&{_LATIN}]"
_PARENS = rf"\((?:{_PATH_CHAR}+|{_PATH_CHAR}*\({_PATH_CHAR}+\){_PATH_CHAR}*)\)"
_PATH_END = rf"(?:[+\-a-z{_CYRILLIC}0-9=_#/{_LATIN}]|{_PARENS})"
_PATH = (rf"(?:{_PATH_CHAR}*(?:{_PARENS}{_PATH_CHAR}*)*{_PATH_END}"
         rf"|@{_PATH_CHAR}+/)")
_QUERY = r"\?[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]*[a-z0-9\-_&=#/]"


_Trie = dict[str, "_Trie"]


def _alternation(words: list[str]) -> str:
    """A regex for any of ``words`` as a trie, longer words first where one prefixes another."""
    trie: _Trie = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: _Trie) -> str:
        alts = [_letter(ch) + emit(sub) for ch, sub in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if "" not in node:
            return body
        return (body if len(alts) > 1 else f"(?:{body})") + "?"

    return emit(trie)


def _letter(ch: str) -> str:
    # ASCII case is folded by re.IGNORECASE | re.ASCII; other scripts' case by hand.
    upper = ch.upper()
    if ch.isascii() or upper == ch or len(upper) != 1:
        return re.escape(ch)
    return f"[{ch}{upper}]"


def prepare() -> None:
    """Compile the patterns now (~25 ms), so processes forked after this share them."""
    _url_patterns()
    _emoji_pattern()


@cache
def _tld() -> str:
    return rf"(?:(?:{_alternation(_TLDS.split())})(?=[^0-9a-z@+-]|\Z)|xn--[0-9a-z-]+)"


@cache
def _ascii_domain() -> re.Pattern[str]:
    """The ASCII part of a name, for names without a scheme or in punycode: rare, so made
    on first need (12 ms)."""
    return re.compile(rf"(?:[\-a-z0-9{_LATIN}]+\.)+{_tld()}", re.IGNORECASE | re.ASCII)


@cache
def _url_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Built on first use: the TLD trie takes ~20 ms to compile."""
    tld = _tld()
    # A label: letters, inner "-" (and "_" before the last dot), then a dot. Atomic groups
    # (no label can end before the first dot anyway) keep long runs of CJK text linear.
    char = f"[^{_NOT_DOMAIN}_-]"
    domain = (rf"(?:{char}(?>[^{_NOT_DOMAIN}]*)(?<={char})\.)*"
              rf"{char}(?>[^{_NOT_DOMAIN}_]*)(?<={char})\.{tld}")
    url = re.compile(
        r"(?P<before>[^A-Za-z0-9@＠$#＃\ufffe\ufeff\uffff]|^)"
        rf"(?P<url>(?P<scheme>https?://)?(?P<domain>{domain})(?::[0-9]+)?"
        rf"(?P<path>/{_PATH}*)?(?:{_QUERY})?)",
        re.IGNORECASE | re.ASCII,
    )
    tco = re.compile(rf"https?://t\.co/([a-z0-9]+)(?:{_QUERY})?", re.IGNORECASE | re.ASCII)
    return url, tco


def _code_units(text: str) -> str:
    """``text`` with one character per UTF-16 code unit: the string JavaScript sees.

    twitter-text's patterns run on such strings, so a link that follows an emoji starts
    half-way through it there; running the same patterns on the same units keeps every
    such quirk.
    """
    return "".join(map(chr, array("H", text.encode(_UTF16, "surrogatepass"))))


@functools.lru_cache(maxsize=1 << 10)  # most links in a site's posts are to the site itself
def _ascii_length(domain: str) -> int | None:
    """The length of ``domain`` (code units) in IDNA form, or None when it is no valid name."""
    if domain[:4].lower() == "xn--" and not _ascii_domain().search(domain):
        return None
    total = 0
    for label in domain.encode(_UTF16, "surrogatepass").decode(_UTF16, "surrogatepass").split("."):
        parts = re.split("[.\u3002\uff0e\uff61]", label)
        size = sum(len(p) if all(" " <= c <= "~" for c in p) else 4 + len(p.encode("punycode"))
                   for p in parts) + len(parts) - 1
        if not 1 <= size <= 63:
            return None
        total += size + 1
    return total - 1


def _links(units: str) -> list[tuple[int, int, int]]:
    """Links in code units: (start, end, how many units twitter-text's counter skips)."""
    url_re, tco_re = _url_patterns()
    links: list[tuple[int, int, int]] = []
    if "." not in units:
        return links
    for m in url_re.finditer(units):
        url, scheme, domain, start, end = (m["url"], m["scheme"], m["domain"],
                                           m.start("url"), m.end("url"))
        ascii_length = _ascii_length(domain)
        if (ascii_length is None
                or len(scheme or "https://") + len(url) + ascii_length - len(domain) > _MAX_URL):
            continue
        if scheme:
            tco = tco_re.match(url)
            if tco and len(tco[1]) > _MAX_TCO_SLUG:
                continue
            end = start + tco.end() if tco else end
            links.append((start, end, end - start))
            continue
        # Without a scheme only the ASCII part of a name is a link ("例えばexample.com").
        if m["before"] in ("-", "_", ".", "/"):
            continue
        found = [(start + a.start(), start + a.end()) for a in _ascii_domain().finditer(domain)]
        links.extend((a, b, b - a) for a, b in found)
        if found and m["path"]:
            # twitter-text swaps the ASCII name into the whole address and skips its length,
            # which falls short of the address's end when non-ASCII letters followed the name.
            a, b = found[-1]
            links[-1] = (a, end, b - a + len(url) - len(domain))
    return links


def _unit_offsets(text: str) -> list[int]:
    """For each code point of ``text`` (and its end), its offset in UTF-16 code units."""
    if not text or max(text) <= "\uffff":  # no surrogate pairs: offsets are indexes
        return list(range(len(text) + 1))
    return [0, *accumulate(2 if ord(ch) > 0xFFFF else 1 for ch in text)]


def url_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Where X sees links in ``text`` (already NFC): (start, end) code point offsets."""
    position = {unit: i for i, unit in enumerate(_unit_offsets(text))}
    return tuple((position[a], position[b]) for a, b, _ in _links(_code_units(text)))


# --- emoji ---------------------------------------------------------------------------------
# Only sequences matter: a lone emoji code point weighs 2 like any other outside the light
# ranges. Sets are twemoji 11's, as hex code points and ranges.
_PRESENTABLE = (  # take U+FE0F (emoji presentation) and stay one emoji
    "A9 AE 203C 2049 2122 2139 2194-2199 21A9-21AA 231A-231B 2328 23CF 23ED-23EF 23F1-23F2 "
    "23F8-23FA 24C2 25AA-25AB 25B6 25C0 25FB-25FE 2600-2604 260E 2611 2614-2615 2618 261D 2620 "
    "2622-2623 2626 262A 262E-262F 2638-263A 2640 2642 2648-2653 265F-2660 2663 2665-2666 2668 "
    "267B 267F 2692-2697 2699 269B-269C 26A0-26A1 26AA-26AB 26B0-26B1 26BD-26BE 26C4-26C5 26C8 "
    "26CF 26D1 26D3-26D4 26E9-26EA 26F0-26F5 26F7-26FA 26FD 2702 2708-2709 270C-270D 270F 2712 "
    "2714 2716 271D 2721 2733-2734 2744 2747 2757 2763-2764 27A1 2934-2935 2B05-2B07 2B1B-2B1C "
    "2B50 2B55 3030 303D 3297 3299 1F004 1F170-1F171 1F17E-1F17F 1F202 1F21A 1F22F 1F237 1F321 "
    "1F324-1F32C 1F336 1F37D 1F396-1F397 1F399-1F39B 1F39E-1F39F 1F3CB-1F3CE 1F3D4-1F3DF 1F3F3 "
    "1F3F5 1F3F7 1F43F 1F441 1F4FD 1F549-1F54A 1F56F-1F570 1F573-1F579 1F587 1F58A-1F58D 1F590 "
    "1F5A5 1F5A8 1F5B1-1F5B2 1F5BC 1F5C2-1F5C4 1F5D1-1F5D3 1F5DC-1F5DE 1F5E1 1F5E3 1F5E8 1F5EF "
    "1F5F3 1F5FA 1F6CB 1F6CD-1F6CF 1F6E0-1F6E5 1F6E9 1F6F0 1F6F3"
)
_TONED_PRESENTABLE = "261D 26F7 26F9 270C-270D 1F3CB-1F3CC 1F574-1F575 1F590"  # + FE0F? + tone
_TONED = (  # take a skin tone directly
    "270A-270B 1F385 1F3C2-1F3C4 1F3C7 1F3CA 1F442-1F443 1F446-1F450 1F466-1F469 1F46E "
    "1F470-1F478 1F47C 1F481-1F483 1F485-1F487 1F4AA 1F57A 1F595-1F596 1F645-1F647 1F64B-1F64F "
    "1F6A3 1F6B4-1F6B6 1F6C0 1F6CC 1F918-1F91C 1F91E-1F91F 1F926 1F930-1F939 1F93D-1F93E "
    "1F9B5-1F9B6 1F9B8-1F9B9 1F9D1-1F9DD"
)
_GENDERED = (  # + tone? + ZWJ + ♀/♂ + FE0F
    "1F3C3-1F3C4 1F3CA 1F46E 1F471 1F473 1F477 1F481-1F482 1F486-1F487 1F645-1F647 1F64B "
    "1F64D-1F64E 1F6A3 1F6B4-1F6B6 1F926 1F935 1F937-1F939 1F93D-1F93E 1F9B8-1F9B9 1F9D6-1F9DD"
)
_GENDERED_PRESENTABLE = "26F9 1F3CB-1F3CC 1F574-1F575"  # + (tone or FE0F) + ZWJ + ♀/♂ + FE0F
_GENDERED_UNTONED = "1F46F 1F93C 1F9DE-1F9DF"  # + ZWJ + ♀/♂ + FE0F
_JOBS = "1F33E 1F373 1F393 1F3A4 1F3A8 1F3EB 1F3ED 1F4BB-1F4BC 1F527 1F52C 1F680 1F692 1F9B0-1F9B3"
_FLAGS = (  # valid regional-indicator pairs: first letter, then each possible second letter
    "ACDEFGILMOQRSTUWXZ BABDEFGHIJLMNOQRSTVWYZ CACDFGHIKLMNOPRUVWXYZ DEGJKMOZ EACEGHRSTU FIJKMOR "
    "GABDEFGHILMNPQRSTUWY HKMNRTU ICDELMNOQRST JEMOP KEGHIMNPRWYZ LABCIKRSTUVY "
    "MACDEFGHKLMNOPQRSTUVWXYZ NACEFGILOPRUZ OM PAEFGHKLMNRSTWY QA REOSUW SABCDEGHIJKLMNORSTVXYZ "
    "TACDFGHJKLMNORTVWZ UAGMNSYZ VACEGINU WFS XK YET ZAMW"
)
_SUBDIVISIONS = ("gbeng", "gbsct", "gbwls")  # England, Scotland, Wales


def _chars(spec: str) -> str:
    """A regex character-class body from hex code points and ``A-B`` ranges."""
    out = []
    for item in spec.split():
        low, _, high = item.partition("-")
        out.append(re.escape(chr(int(low, 16))) + (f"-{re.escape(chr(int(high, 16)))}"
                                                   if high else ""))
    return "".join(out)


def _ri(letter: str) -> str:
    return chr(0x1F1E6 + ord(letter) - ord("A"))


@cache
def _emoji_pattern() -> re.Pattern[str]:
    tone, zwj, vs = "[\U0001f3fb-\U0001f3ff]", "\u200d", "\ufe0f"
    man, woman, boy, girl = "\U0001f468", "\U0001f469", "\U0001f466", "\U0001f467"
    heart, kiss = "\u2764\ufe0f", "\U0001f48b"
    parents = (man, woman, man + zwj + man, man + zwj + woman, woman + zwj + woman)
    children = (boy, girl, boy + zwj + boy, girl + zwj + boy, girl + zwj + girl)
    families = [p + zwj + c for p in parents for c in children]
    couples = [a + zwj + heart + zwj + k + b for a, b in ((man, man), (woman, man),
                                                          (woman, woman)) for k in ("", kiss + zwj)]
    others = ["\U0001f3f3\ufe0f\u200d\U0001f308", "\U0001f3f4\u200d\u2620\ufe0f",
              "\U0001f441\u200d\U0001f5e8"]
    listed = sorted(families + couples + others, key=len, reverse=True)
    flags = "|".join(_ri(spec[0]) + "[" + "".join(map(_ri, spec[1:])) + "]"
                     for spec in _FLAGS.split())
    tags = "|".join("\U0001f3f4" + "".join(chr(0xE0000 + ord(c)) for c in name) + "\U000e007f"
                    for name in _SUBDIVISIONS)
    return re.compile(
        f"[{man}{woman}]{tone}?{zwj}(?:[\u2695\u2696\u2708]{vs}|[{_chars(_JOBS)}])"
        f"|(?:[{_chars(_GENDERED_PRESENTABLE)}](?:{tone}|{vs})|[{_chars(_GENDERED)}]{tone}?"
        f"|[{_chars(_GENDERED_UNTONED)}]){zwj}[\u2640\u2642]{vs}"
        "|" + "|".join(map(re.escape, listed)) +
        f"|[#*0-9]{vs}?\u20e3"
        f"|[{_chars(_TONED_PRESENTABLE)}]{vs}?{tone}"
        f"|[{_chars(_PRESENTABLE)}]{vs}"
        f"|[{_chars(_TONED)}]{tone}"
        f"|{flags}|{tags}"
    )


# Every sequence the pattern knows has one of these: ZWJ, VS16, the keycap mark, a skin
# tone, a regional indicator or a tag character. Text without any has no sequence to find.
_EMOJI_HINT = re.compile("[\u200d\ufe0f\u20e3\U0001f1e6-\U0001f1ff\U0001f3fb-\U0001f3ff"
                         "\U000e0020-\U000e007f]")


def emoji_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Emoji sequences of more than one code point in ``text`` (already NFC)."""
    if not _EMOJI_HINT.search(text):
        return ()
    return tuple(m.span() for m in _emoji_pattern().finditer(text))


# --- counting ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)  # fitting a post measures it, then keeps it: measured again
def weighted_length(text: str) -> int:
    """The length X shows for ``text`` (at most 280 for a valid post)."""
    text = unicodedata.normalize("NFC", text)
    units = _code_units(text)
    offsets = _unit_offsets(text)
    # Where each link or emoji starts: how far twitter-text then skips, and what it counts.
    skips = {offsets[a]: (offsets[b] - offsets[a], 2) for a, b in emoji_spans(text)}
    skips.update((start, (skip, URL_LENGTH)) for start, _, skip in _links(units))
    starts = sorted(skips)
    total = i = 0
    while i < len(units):
        # A link's skip can end inside an emoji; the rest of it then counts as plain text.
        at = bisect_left(starts, i)
        start = starts[at] if at < len(starts) else len(units)
        total += _weight(units[i:start])
        if start < len(units):
            skip, weight = skips[start]
            total, i = total + weight, start + skip
        else:
            i = start
    return total


def tweet_check(text: str) -> tuple[int, bool]:
    """``(weighted length, ok)``: ok when X would accept ``text`` as a post."""
    length = weighted_length(text)
    return length, 0 < length <= MAX_WEIGHTED_LENGTH and not _FORBIDDEN.intersection(text)


# --- grapheme clusters ---------------------------------------------------------------------
# A compact form of Unicode's extended grapheme cluster rules (UAX #29, 15.1), enough never to
# cut a letter from its accents, an Indic conjunct, an emoji sequence, a flag or a syllable.
_LINKERS = frozenset("\u094d\u09cd\u0acd\u0b4d\u0c4d\u0d4d")  # viramas that join conjuncts
_NOT_SPACING = frozenset(  # spacing marks that still begin a new cluster
    "\u102b\u102c\u1038\u1062\u1063\u1064\u1067\u1068\u1069\u106a\u106b\u106c\u106d\u1083"
    "\u1087\u1088\u1089\u108a\u108b\u108c\u108f\u109a\u109b\u109c\u1a61\u1a63\u1a64\uaa7b"
    "\uaa7d\U00011720\U00011721")
_PREPEND = frozenset("\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2\u0d4e")
_BREAKS = frozenset(("Cc", "Zl", "Zp"))


def _extend(ch: str) -> bool:
    cp = ord(ch)
    return (unicodedata.category(ch) in ("Mn", "Me") or cp == 0x200C
            or 0xFE00 <= cp <= 0xFE0F or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F
            or 0xE0100 <= cp <= 0xE01EF or cp in (0xFF9E, 0xFF9F))


def _spacing(ch: str) -> bool:
    return (unicodedata.category(ch) == "Mc" and ch not in _NOT_SPACING) or ch in "\u0e33\u0eb3"


_PICTOGRAPHS = frozenset(  # Extended_Pictographic below U+2600, beside the emoji blocks
    "\xa9\xae\u203c\u2049\u2122\u2139\u2194\u2195\u2196\u2197\u2198\u2199\u21a9\u21aa\u231a"
    "\u231b\u2328\u2388\u23cf\u23e9\u23ea\u23eb\u23ec\u23ed\u23ee\u23ef\u23f0\u23f1\u23f2"
    "\u23f3\u23f8\u23f9\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb\u25fc\u25fd\u25fe\u2934"
    "\u2935\u2b05\u2b06\u2b07\u2b1b\u2b1c\u2b50\u2b55\u3030\u303d\u3297\u3299")


def _pictographic(ch: str) -> bool:
    cp = ord(ch)
    return ((0x1F000 <= cp <= 0x1FAFF and not 0x1F1E6 <= cp <= 0x1F1FF
             and not 0x1F3FB <= cp <= 0x1F3FF)
            or 0x2600 <= cp <= 0x27BF or ch in _PICTOGRAPHS)


def _consonant(ch: str) -> bool:
    """A consonant of the scripts whose viramas make conjuncts (Devanagari … Malayalam)."""
    cp = ord(ch)
    block, offset = cp & ~0x7F, cp & 0x7F
    return (block in (0x900, 0x980, 0xA80, 0xB00, 0xC00, 0xD00) and 0x15 <= offset <= 0x39
            and unicodedata.category(ch) == "Lo") or 0x958 <= cp <= 0x95F or cp in (
            0x9DC, 0x9DD, 0x9DF, 0xB5C, 0xB5D, 0xB5F)


def _hangul(ch: str) -> str:
    cp = ord(ch)
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return "L"
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return "V"
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return "T"
    if 0xAC00 <= cp <= 0xD7A3:
        return "LV" if (cp - 0xAC00) % 28 == 0 else "LVT"
    return ""


_HANGUL_JOINS = frozenset((("L", "L"), ("L", "V"), ("L", "LV"), ("L", "LVT"), ("LV", "V"),
                           ("LV", "T"), ("V", "V"), ("V", "T"), ("LVT", "T"), ("T", "T")))


# Characters that never join a neighbour: Latin and its symbols, and the punctuation and
# currency blocks without their format characters (U+2028-U+202F, U+205F-U+206F).
_SIMPLE = re.compile("[\x00-\u02ff\u2010-\u2027\u2030-\u205e\u20a0-\u20c0]*")
_SIMPLE_CLUSTERS = re.compile(r"\r\n|.", re.DOTALL)
_JOINING = re.compile("[\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff\uac00-\ud7a3"
                      "\U0001f1e6-\U0001f1ff\U0001f3fb-\U0001f3ff]")


def _stands_alone(text: str) -> bool:
    """True when no character can join its neighbour: no marks, joiners, Hangul, flags…"""
    if _SIMPLE.fullmatch(text):
        return True
    return not _JOINING.search(text) and not any(
        ch in _PREPEND or unicodedata.category(ch) in ("Mn", "Mc", "Me", "Cf")
        for ch in set(text))


def grapheme_count(text: str) -> int:
    """``len(graphemes(text))``, without splitting when no character can join another."""
    if _stands_alone(text):
        return len(text) - text.count("\r\n")
    return len(graphemes(text))


def graphemes(text: str) -> tuple[str, ...]:
    """``text`` split into user-perceived characters (extended grapheme clusters)."""
    if _stands_alone(text):
        # Then every code point is its own cluster, except CR LF, which stays together.
        return tuple(_SIMPLE_CLUSTERS.findall(text))
    clusters: list[str] = []
    start = 0
    regional = 0  # regional indicators in a row, ending the cluster so far
    pictograph = False  # the cluster ends with a pictograph and its extenders
    joiner = False  # … and then a ZWJ, which joins the next pictograph
    conjunct = ""  # "C": after an Indic consonant; "L": after consonant + virama
    for i, ch in enumerate(text):
        prev = text[i - 1] if i else ""
        joins = i > 0 and (
            (prev == "\r" and ch == "\n")
            or (unicodedata.category(prev) not in _BREAKS
                and unicodedata.category(ch) not in _BREAKS
                and (_extend(ch) or ch == "\u200d" or _spacing(ch) or prev in _PREPEND
                     or (_hangul(prev), _hangul(ch)) in _HANGUL_JOINS
                     or (conjunct == "L" and _consonant(ch))
                     or (joiner and _pictographic(ch))
                     or (0x1F1E6 <= ord(ch) <= 0x1F1FF and regional % 2 == 1))))
        if i and not joins:
            clusters.append(text[start:i])
            start, regional, pictograph, conjunct = i, 0, False, ""
        joiner = pictograph and ch == "\u200d"
        pictograph = _pictographic(ch) or (pictograph and _extend(ch))
        regional = regional + 1 if 0x1F1E6 <= ord(ch) <= 0x1F1FF else 0
        if _consonant(ch):
            conjunct = "C"
        elif ch in _LINKERS and conjunct:
            conjunct = "L"
        elif not (conjunct and (_extend(ch) or ch == "\u200d")):
            conjunct = ""
    if text:
        clusters.append(text[start:])
    return tuple(clusters)
