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

import re
import unicodedata
from functools import cache

MAX_WEIGHTED_LENGTH = 280
URL_LENGTH = 23  # what a t.co link counts, however long the real address
_LIGHT = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_FORBIDDEN = frozenset("\ufffe\ufeff\uffff")  # X rejects a post containing these
_MAX_URL = 4096  # twitter-text ignores longer addresses (counted with the scheme)
_MAX_TCO_SLUG = 40


def _weight(ch: str) -> int:
    cp = ord(ch)
    return 1 if any(low <= cp <= high for low, high in _LIGHT) else 2


# --- URLs ----------------------------------------------------------------------------------
# Top-level domains twitter-text recognises (its list is IANA's root zone of 2020; names
# added later, like .music, are not links there, so they are not here either).
_TLDS = (
    "aaa aarp abarth abb abbott abbvie abc able abogado abudhabi ac academy accenture accountant "
    "accountants aco actor ad ads adult ae aeg aero aetna af afl africa ag agakhan agency ai aig "
    "airbus airforce airtel akdn al alfaromeo alibaba alipay allfinanz allstate ally alsace "
    "alstom am amazon americanexpress americanfamily amex amfam amica amsterdam an analytics "
    "android anquan anz ao aol apartments app apple aq aquarelle ar arab aramco archi army arpa "
    "art arte as asda asia associates at athleta attorney au auction audi audible audio auspost "
    "author auto autos aw aws ax axa az azure ba baby baidu banamex band bank bar barcelona "
    "barclaycard barclays barefoot bargains baseball basketball bauhaus bayern bb bbc bbt bbva "
    "bcg bcn bd be beats beauty beer berlin best bestbuy bet bf bg bh bharti bi bible bid bike "
    "bing bingo bio biz bj bl black blackfriday blockbuster blog bloomberg blue bm bms bmw bn "
    "bnpparibas bo boats boehringer bofa bom bond boo book booking bosch bostik boston bot "
    "boutique box bq br bradesco bridgestone broadway broker brother brussels bs bt build "
    "builders business buy buzz bv bw by bz bzh ca cab cafe cal call calvinklein cam camera camp "
    "canon capetown capital capitalone car caravan cards care career careers cars casa case cash "
    "casino cat catering catholic cba cbn cbre cc cd center ceo cern cf cfa cfd cg ch chanel "
    "channel charity chase chat cheap chintai christmas chrome church ci cipriani circle cisco "
    "citadel citi citic city ck cl claims cleaning click clinic clinique clothing cloud club "
    "clubmed cm cn co coach codes coffee college cologne com commbank community company compare "
    "computer comsec condos construction consulting contact contractors cooking cool coop "
    "corsica country coupon coupons courses cpa cr credit creditcard creditunion cricket crown "
    "crs cruise cruises cu cuisinella cv cw cx cy cymru cyou cz dad dance data date dating "
    "datsun day dclk dds de deal dealer deals degree delivery dell deloitte delta democrat "
    "dental dentist desi design dev dhl diamonds diet digital direct directory discount discover "
    "dish diy dj dk dm dnp do docs doctor dog domains dot download drive dtv dubai dunlop dupont "
    "durban dvag dvr dz earth eat ec eco edeka edu education ee eg eh email emerck energy "
    "engineer engineering enterprises epson equipment er ericsson erni es esq estate et eu "
    "eurovision eus events exchange expert exposed express extraspace fage fail fairwinds faith "
    "family fan fans farm farmers fashion fast fedex feedback ferrari ferrero fi fidelity fido "
    "film final finance financial fire firestone firmdale fish fishing fit fitness fj fk flickr "
    "flights flir florist flowers fly fm fo foo food football ford forex forsale forum "
    "foundation fox fr free fresenius frl frogans frontier ftr fujitsu fun fund furniture futbol "
    "fyi ga gal gallery gallo gallup game games gap garden gay gb gbiz gd gdn ge gea gent "
    "genting george gf gg ggee gh gi gift gifts gives giving gl glass gle global globo gm gmail "
    "gmbh gmo gmx gn godaddy gold goldpoint golf goo goodyear goog google gop got gov gp gq gr "
    "grainger graphics gratis green gripe grocery group gs gt gu gucci guge guide guitars guru "
    "gw gy hair hamburg hangout haus hbo hdfc hdfcbank health healthcare help helsinki here "
    "hermes hiphop hisamitsu hitachi hiv hk hkt hm hn hockey holdings holiday homedepot "
    "homegoods homes homesense honda horse hospital host hosting hot hotels hotmail house how hr "
    "hsbc ht hu hughes hyatt hyundai ibm icbc ice icu id ie ieee ifm ikano il im imamat imdb "
    "immo immobilien in inc industries infiniti info ing ink institute insurance insure int "
    "international intuit investments io ipiranga iq ir irish is ismaili ist istanbul it itau "
    "itv jaguar java jcb je jeep jetzt jewelry jio jll jm jmp jnj jo jobs joburg jot joy jp "
    "jpmorgan jprs juegos juniper kaufen kddi ke kerryhotels kerryproperties kfh kg kh ki kia "
    "kim kindle kitchen kiwi km kn koeln komatsu kosher kp kpmg kpn kr krd kred kuokgroup kw ky "
    "kyoto kz la lacaixa lamborghini lamer land landrover lanxess lasalle lat latino latrobe law "
    "lawyer lb lc lds lease leclerc lefrak legal lego lexus lgbt li lidl life lifeinsurance "
    "lifestyle lighting like lilly limited limo lincoln link live living lk llc llp loan loans "
    "locker locus lol london lotte lotto love lpl lplfinancial lr ls lt ltd ltda lu lundbeck "
    "luxe luxury lv ly ma madrid maif maison makeup man management mango map market marketing "
    "markets marriott marshalls mattel mba mc mckinsey md me med media meet melbourne meme "
    "memorial men menu merckmsd mf mg mh miami microsoft mil mini mint mit mitsubishi mk ml mlb "
    "mls mm mma mn mo mobi mobile moda moe moi mom monash money monster mormon mortgage moscow "
    "moto motorcycles mov movie mp mq mr ms msd mt mtn mtr mu museum mutual mv mw mx my mz na "
    "nab nagoya name natura navy nba nc ne nec net netbank netflix network neustar new news next "
    "nextdirect nexus nf nfl ng ngo nhk ni nico nike nikon ninja nissan nissay nl no nokia "
    "norton now nowruz nowtv np nr nra nrw ntt nu nyc nz obi observer office okinawa olayan "
    "olayangroup ollo om omega one ong onion onl online ooo open oracle orange org organic "
    "origins osaka otsuka ott ovh pa page panasonic paris pars partners parts party pay pccw pe "
    "pet pf pfizer pg ph pharmacy phd philips phone photo photography photos physio pics pictet "
    "pictures pid pin ping pink pioneer pizza pk pl place play playstation plumbing plus pm pn "
    "pnc pohl poker politie porn post pr pramerica praxi press prime pro prod productions prof "
    "progressive promo properties property protection pru prudential ps pt pub pw pwc py qa "
    "qpon quebec quest racing radio re read realestate realtor realty recipes red redstone "
    "redumbrella rehab reise reisen reit reliance ren rent rentals repair report republican rest "
    "restaurant review reviews rexroth rich richardli ricoh ril rio rip ro rocks rodeo rogers "
    "room rs rsvp ru rugby ruhr run rw rwe ryukyu sa saarland safe safety sakura sale salon "
    "samsclub samsung sandvik sandvikcoromant sanofi sap sarl sas save saxo sb sbi sbs sc scb "
    "schaeffler schmidt scholarships school schule schwarz science scot sd se search seat secure "
    "security seek select sener services seven sew sex sexy sfr sg sh shangrila sharp shell "
    "shia shiksha shoes shop shopping shouji show si silk sina singles site sj sk ski skin sky "
    "skype sl sling sm smart smile sn sncf so soccer social softbank software sohu solar "
    "solutions song sony soy space sport spot sr srl ss st stada staples star statebank "
    "statefarm stc stcgroup stockholm storage store stream studio study style su sucks supplies "
    "supply support surf surgery suzuki sv swatch swiss sx sy sydney systems sz tab taipei talk "
    "taobao target tatamotors tatar tattoo tax taxi tc tci td tdk team tech technology tel "
    "temasek tennis teva tf tg th thd theater theatre tiaa tickets tienda tips tires tirol tj "
    "tjmaxx tjx tk tkmaxx tl tm tmall tn to today tokyo tools top toray toshiba total tours town "
    "toyota toys tr trade trading training travel travelers travelersinsurance trust trv tt "
    "tube tui tunes tushu tv tvs tw tz ua ubank ubs ug uk unicom university uno uol ups us uy uz "
    "va vacations vana vanguard vc ve vegas ventures verisign versicherung vet vg vi viajes "
    "video vig viking villas vin vip virgin visa vision viva vivo vlaanderen vn vodka volvo vote "
    "voting voto voyage vu wales walmart walter wang wanggou watch watches weather weatherchannel "
    "webcam weber website wed wedding weibo weir wf whoswho wien wiki williamhill win windows "
    "wine winners wme wolterskluwer woodside work works world wow ws wtc wtf xbox xerox xihuan "
    "xin xxx xyz yachts yahoo yamaxun yandex ye yodobashi yoga yokohama you youtube yt yun za "
    "zappos zara zero zip zm zone zuerich zw "
    "vermögensberater vermögensberatung ελ ευ бг бел дети ею католик ком мкд мон москва онлайн "
    "орг рус рф сайт срб укр қаз հայ קום ابوظبي اتصالات ارامكو الاردن البحرين الجزائر السعودية "
    "العليان المغرب امارات ایران بارت بازار بيتك بھارت تونس سودان سورية شبكة عراق عرب عمان فلسطين "
    "قطر كاثوليك كوم مصر مليسيا موريتانيا موقع همراه پاکستان ڀارت कॉम नेट भारत भारतम् भारोत संगठन "
    "বাংলা ভারত ভাৰত ਭਾਰਤ ભારત ଭାରତ இந்தியா இலங்கை சிங்கப்பூர் భారత్ ಭಾರತ ഭാരതം ලංකා คอม ไทย ລາວ გე "
    "みんな クラウド グーグル コム ストア セール ファッション ポイント 世界 中信 中国 中國 中文网 企业 佛山 信息 健康 八卦 公司 公益 "
    "台湾 台灣 商城 商店 商标 嘉里 嘉里大酒店 在线 大拿 天主教 娱乐 家電 广东 微博 慈善 我爱你 手机 招聘 政务 政府 新加坡 新闻 时尚 "
    "書籍 机构 淡马锡 游戏 澳門 点看 移动 组织机构 网址 网店 网站 网络 联通 谷歌 购物 通販 集团 電訊盈科 飞利浦 食品 餐厅 香格里拉 香港 "
    "닷넷 닷컴 삼성 한국"
)
# Characters that end a domain label: ASCII punctuation, spaces, X's forbidden characters,
# and bidirectional controls.
_NOT_DOMAIN = (
    r"!'#%&()*+,\\\-./:;<=>?@\[\]^_{|}~$"
    "\t-\r \x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    "\ufffe\ufeff\uffff\u202a-\u202e\u061c\u200e\u200f\u2066-\u2069"
)
_LATIN = (
    "\xc0-\xd6\xd8-\xf6\xf8-\xff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b\u0263"
    "\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_PATH_CHAR = rf"[a-z\u0400-\u04ff0-9!*';:=+,.$/%#\[\]\-\u2013_~@|&{_LATIN}]"
_PARENS = rf"\((?:{_PATH_CHAR}+|{_PATH_CHAR}*\({_PATH_CHAR}+\){_PATH_CHAR}*)\)"
_PATH_END = rf"(?:[+\-a-z\u0400-\u04ff0-9=_#/{_LATIN}]|{_PARENS})"
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


@cache
def _url_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Built on first use: the TLD trie takes a few milliseconds to compile."""
    tld = (rf"(?:(?:{_alternation(_TLDS.split())})(?=[^0-9a-z@+-]|\Z)"
           r"|xn--[0-9a-z-]+)")
    char = f"[^{_NOT_DOMAIN}]"
    domain = (rf"(?:(?:{char}(?:[_-]|{char})*)?{char}\.)*"
              rf"(?:(?:{char}(?:-|{char})*)?{char}\.){tld}")
    url = re.compile(
        r"(?P<before>[^A-Za-z0-9@＠$#＃\ufffe\ufeff\uffff]|^)"
        rf"(?P<url>(?P<scheme>https?://)?(?P<domain>{domain})(?::[0-9]+)?"
        rf"(?P<path>/{_PATH}*)?(?:{_QUERY})?)",
        re.IGNORECASE | re.ASCII,
    )
    ascii_domain = re.compile(rf"(?:[\-a-z0-9{_LATIN}]+\.)+{tld}", re.IGNORECASE | re.ASCII)
    tco = re.compile(rf"https?://t\.co/([a-z0-9]+)(?:{_QUERY})?", re.IGNORECASE | re.ASCII)
    return url, ascii_domain, tco


def _utf16_len(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _punycode_length(domain: str, ascii_domain: re.Pattern[str]) -> int | None:
    """The length of ``domain`` in ASCII (IDNA) form, or None when it is no valid name."""
    if domain[:4].lower() == "xn--" and not ascii_domain.search(domain):
        return None
    total = 0
    for label in domain.split("."):
        parts = re.split("[.\u3002\uff0e\uff61]", label)
        size = sum(len(p) if all(" " <= c <= "~" for c in p) else 4 + len(p.encode("punycode"))
                   for p in parts) + len(parts) - 1
        if not 1 <= size <= 63:
            return None
        total += size + 1
    return total - 1


def url_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Where X sees links in ``text`` (already NFC): (start, end) code point offsets."""
    url_re, ascii_re, tco_re = _url_patterns()
    spans: list[tuple[int, int]] = []
    if "." not in text:
        return ()
    for m in url_re.finditer(text):
        url, scheme, domain, start, end = (m["url"], m["scheme"], m["domain"],
                                           m.start("url"), m.end("url"))
        ascii_length = _punycode_length(domain, ascii_re)
        if ascii_length is None or (len(scheme or "https://") + _utf16_len(url) + ascii_length
                                    - _utf16_len(domain)) > _MAX_URL:
            continue
        if scheme:
            tco = tco_re.match(url)
            if tco:
                if len(tco[1]) > _MAX_TCO_SLUG:
                    continue
                end = start + tco.end()
            spans.append((start, end))
            continue
        # Without a scheme only the ASCII part of a name is a link ("例えばexample.com").
        if m["before"] in ("-", "_", ".", "/"):
            continue
        found = [(start + a.start(), start + a.end()) for a in ascii_re.finditer(domain)]
        if found and m["path"]:
            found[-1] = (found[-1][0], end)
        spans.extend(found)
    return tuple(spans)


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


def emoji_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Emoji sequences of more than one code point in ``text`` (already NFC)."""
    return tuple(m.span() for m in _emoji_pattern().finditer(text))


# --- counting ------------------------------------------------------------------------------


def weighted_length(text: str) -> int:
    """The length X shows for ``text`` (at most 280 for a valid post)."""
    text = unicodedata.normalize("NFC", text)
    urls = dict(url_spans(text))
    emoji = dict(emoji_spans(text))
    total = i = 0
    while i < len(text):
        if i in urls:
            total, i = total + URL_LENGTH, urls[i]
        elif i in emoji:
            total, i = total + 2, emoji[i]
        else:
            total, i = total + _weight(text[i]), i + 1
    return total


def tweet_check(text: str) -> tuple[int, bool]:
    """``(weighted length, ok)``: ok when X would accept ``text`` as a post."""
    length = weighted_length(text)
    return length, 0 < length <= MAX_WEIGHTED_LENGTH and not _FORBIDDEN.intersection(text)


# --- grapheme clusters ---------------------------------------------------------------------
# A compact form of Unicode's extended grapheme cluster rules (UAX #29), enough to never cut
# a letter from its accents, an emoji sequence, a flag or a Hangul syllable.
_VIRAMAS = frozenset("\u094d\u09cd\u0acd\u0b4d\u0c4d\u0d4d")


def _extends(ch: str) -> bool:
    cp = ord(ch)
    return (unicodedata.category(ch) in ("Mn", "Me", "Mc") or cp in (0x200C, 0x200D)
            or 0xFE00 <= cp <= 0xFE0F or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F
            or 0xE0100 <= cp <= 0xE01EF or cp in (0xFF9E, 0xFF9F))


def _pictographic(ch: str) -> bool:
    cp = ord(ch)
    return (unicodedata.category(ch) == "So" or 0x1F000 <= cp <= 0x1FAFF
            or cp in (0xA9, 0xAE, 0x203C, 0x2049, 0x2122, 0x2139))


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


def _joins(text: str, i: int, ri_run: int) -> bool:
    """Whether text[i] belongs to the cluster that text[i - 1] is in."""
    prev, ch = text[i - 1], text[i]
    if prev == "\r" and ch == "\n":
        return True
    if unicodedata.category(prev) in ("Cc", "Zl", "Zp") or unicodedata.category(ch) in (
            "Cc", "Zl", "Zp"):
        return False
    if _extends(ch):
        return True
    h0, h1 = _hangul(prev), _hangul(ch)
    if (h0 == "L" and h1 in ("L", "V", "LV", "LVT") or h0 in ("LV", "V") and h1 in ("V", "T")
            or h0 in ("LVT", "T") and h1 == "T"):
        return True
    if prev == "\u200d" and _pictographic(ch):
        return True
    if prev in _VIRAMAS and unicodedata.category(ch) == "Lo":
        return True
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF and ri_run % 2 == 1


def graphemes(text: str) -> tuple[str, ...]:
    """``text`` split into user-perceived characters (extended grapheme clusters)."""
    clusters: list[str] = []
    start, ri_run = 0, 0
    for i in range(1, len(text) + 1):
        prev = text[i - 1]
        ri_run = ri_run + 1 if 0x1F1E6 <= ord(prev) <= 0x1F1FF else 0
        if i == len(text) or not _joins(text, i, ri_run):
            clusters.append(text[start:i])
            start = i
    return tuple(clusters)
