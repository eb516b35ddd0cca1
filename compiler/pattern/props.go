package pattern

import (
	"strings"
	"sync"
	"unicode"
)

// scriptAliases maps the short Script value aliases that ECMA-262 accepts
// (PropertyValueAliases.txt) to the long names of Go's unicode.Scripts.
var scriptAliases = map[string]string{
	"Adlm": "Adlam",
	"Aghb": "Caucasian_Albanian",
	"Ahom": "Ahom",
	"Arab": "Arabic",
	"Armi": "Imperial_Aramaic",
	"Armn": "Armenian",
	"Avst": "Avestan",
	"Bali": "Balinese",
	"Bamu": "Bamum",
	"Bass": "Bassa_Vah",
	"Batk": "Batak",
	"Beng": "Bengali",
	"Bhks": "Bhaiksuki",
	"Bopo": "Bopomofo",
	"Brah": "Brahmi",
	"Brai": "Braille",
	"Bugi": "Buginese",
	"Buhd": "Buhid",
	"Cakm": "Chakma",
	"Cans": "Canadian_Aboriginal",
	"Cari": "Carian",
	"Cham": "Cham",
	"Cher": "Cherokee",
	"Chrs": "Chorasmian",
	"Copt": "Coptic",
	"Cpmn": "Cypro_Minoan",
	"Cprt": "Cypriot",
	"Cyrl": "Cyrillic",
	"Deva": "Devanagari",
	"Diak": "Dives_Akuru",
	"Dogr": "Dogra",
	"Dsrt": "Deseret",
	"Dupl": "Duployan",
	"Egyp": "Egyptian_Hieroglyphs",
	"Elba": "Elbasan",
	"Elym": "Elymaic",
	"Ethi": "Ethiopic",
	"Geor": "Georgian",
	"Glag": "Glagolitic",
	"Gong": "Gunjala_Gondi",
	"Gonm": "Masaram_Gondi",
	"Goth": "Gothic",
	"Gran": "Grantha",
	"Grek": "Greek",
	"Gujr": "Gujarati",
	"Guru": "Gurmukhi",
	"Hang": "Hangul",
	"Hani": "Han",
	"Hano": "Hanunoo",
	"Hatr": "Hatran",
	"Hebr": "Hebrew",
	"Hira": "Hiragana",
	"Hluw": "Anatolian_Hieroglyphs",
	"Hmng": "Pahawh_Hmong",
	"Hmnp": "Nyiakeng_Puachue_Hmong",
	"Hung": "Old_Hungarian",
	"Ital": "Old_Italic",
	"Java": "Javanese",
	"Kali": "Kayah_Li",
	"Kana": "Katakana",
	"Kawi": "Kawi",
	"Khar": "Kharoshthi",
	"Khmr": "Khmer",
	"Khoj": "Khojki",
	"Kits": "Khitan_Small_Script",
	"Knda": "Kannada",
	"Kthi": "Kaithi",
	"Lana": "Tai_Tham",
	"Laoo": "Lao",
	"Latn": "Latin",
	"Lepc": "Lepcha",
	"Limb": "Limbu",
	"Lina": "Linear_A",
	"Linb": "Linear_B",
	"Lisu": "Lisu",
	"Lyci": "Lycian",
	"Lydi": "Lydian",
	"Mahj": "Mahajani",
	"Maka": "Makasar",
	"Mand": "Mandaic",
	"Mani": "Manichaean",
	"Marc": "Marchen",
	"Medf": "Medefaidrin",
	"Mend": "Mende_Kikakui",
	"Merc": "Meroitic_Cursive",
	"Mero": "Meroitic_Hieroglyphs",
	"Miao": "Miao",
	"Mlym": "Malayalam",
	"Modi": "Modi",
	"Mong": "Mongolian",
	"Mroo": "Mro",
	"Mtei": "Meetei_Mayek",
	"Mult": "Multani",
	"Mymr": "Myanmar",
	"Nagm": "Nag_Mundari",
	"Nand": "Nandinagari",
	"Narb": "Old_North_Arabian",
	"Nbat": "Nabataean",
	"Newa": "Newa",
	"Nkoo": "Nko",
	"Nshu": "Nushu",
	"Ogam": "Ogham",
	"Olck": "Ol_Chiki",
	"Orkh": "Old_Turkic",
	"Orya": "Oriya",
	"Osge": "Osage",
	"Osma": "Osmanya",
	"Ougr": "Old_Uyghur",
	"Palm": "Palmyrene",
	"Pauc": "Pau_Cin_Hau",
	"Perm": "Old_Permic",
	"Phag": "Phags_Pa",
	"Phli": "Inscriptional_Pahlavi",
	"Phlp": "Psalter_Pahlavi",
	"Phnx": "Phoenician",
	"Plrd": "Miao",
	"Prti": "Inscriptional_Parthian",
	"Qaac": "Coptic",
	"Qaai": "Inherited",
	"Rjng": "Rejang",
	"Rohg": "Hanifi_Rohingya",
	"Runr": "Runic",
	"Samr": "Samaritan",
	"Sarb": "Old_South_Arabian",
	"Saur": "Saurashtra",
	"Sgnw": "SignWriting",
	"Shaw": "Shavian",
	"Shrd": "Sharada",
	"Sidd": "Siddham",
	"Sind": "Khudawadi",
	"Sinh": "Sinhala",
	"Sogd": "Sogdian",
	"Sogo": "Old_Sogdian",
	"Sora": "Sora_Sompeng",
	"Soyo": "Soyombo",
	"Sund": "Sundanese",
	"Sylo": "Syloti_Nagri",
	"Syrc": "Syriac",
	"Tagb": "Tagbanwa",
	"Takr": "Takri",
	"Tale": "Tai_Le",
	"Talu": "New_Tai_Lue",
	"Taml": "Tamil",
	"Tang": "Tangut",
	"Tavt": "Tai_Viet",
	"Telu": "Telugu",
	"Tfng": "Tifinagh",
	"Tglg": "Tagalog",
	"Thaa": "Thaana",
	"Thai": "Thai",
	"Tibt": "Tibetan",
	"Tirh": "Tirhuta",
	"Tnsa": "Tangsa",
	"Toto": "Toto",
	"Ugar": "Ugaritic",
	"Vaii": "Vai",
	"Vith": "Vithkuqi",
	"Wara": "Warang_Citi",
	"Wcho": "Wancho",
	"Xpeo": "Old_Persian",
	"Xsux": "Cuneiform",
	"Yezi": "Yezidi",
	"Yiii": "Yi",
	"Zanb": "Zanabazar_Square",
	"Zinh": "Inherited",
	"Zyyy": "Common",
	"Zzzz": "Unknown",
}

// newerScripts are Script values valid in newer Unicode versions than Go's
// tables (long name and alias): patterns naming them are unsupported.
var newerScripts = map[string]bool{
	"Beria_Erfe": true, "Berf": true, "Garay": true, "Gara": true, "Gurung_Khema": true, "Gukh": true,
	"Kirat_Rai": true, "Krai": true, "Ol_Onal": true, "Onao": true, "Sidetic": true, "Sidt": true,
	"Sunuwar": true, "Sunu": true, "Tai_Yo": true, "Tayo": true, "Todhri": true, "Todr": true,
	"Tolong_Siki": true, "Tols": true, "Tulu_Tigalari": true, "Tutg": true,
}

// binaryAliases maps every binary property name ECMA-262 accepts (long name
// and short alias) to its long name.
var binaryAliases = map[string]string{}

func init() {
	for _, pair := range strings.Fields(`ASCII,ASCII ASCII_Hex_Digit,AHex Alphabetic,Alpha Any,Any Assigned,Assigned
		Bidi_Control,Bidi_C Bidi_Mirrored,Bidi_M Case_Ignorable,CI Cased,Cased Changes_When_Casefolded,CWCF
		Changes_When_Casemapped,CWCM Changes_When_Lowercased,CWL Changes_When_NFKC_Casefolded,CWKCF
		Changes_When_Titlecased,CWT Changes_When_Uppercased,CWU Dash,Dash Default_Ignorable_Code_Point,DI
		Deprecated,Dep Diacritic,Dia Emoji,Emoji Emoji_Component,EComp Emoji_Modifier,EMod
		Emoji_Modifier_Base,EBase Emoji_Presentation,EPres Extended_Pictographic,ExtPict Extender,Ext
		Grapheme_Base,Gr_Base Grapheme_Extend,Gr_Ext Hex_Digit,Hex IDS_Binary_Operator,IDSB
		IDS_Trinary_Operator,IDST ID_Continue,IDC ID_Start,IDS Ideographic,Ideo Join_Control,Join_C
		Logical_Order_Exception,LOE Lowercase,Lower Math,Math Noncharacter_Code_Point,NChar
		Pattern_Syntax,Pat_Syn Pattern_White_Space,Pat_WS Quotation_Mark,QMark Radical,Radical
		Regional_Indicator,RI Sentence_Terminal,STerm Soft_Dotted,SD Terminal_Punctuation,Term
		Unified_Ideograph,UIdeo Uppercase,Upper Variation_Selector,VS White_Space,space
		XID_Continue,XIDC XID_Start,XIDS`) {
		long, short, _ := strings.Cut(pair, ",")
		binaryAliases[long] = long
		binaryAliases[short] = long
	}
}

var (
	propMu    sync.Mutex
	propCache = map[string]runeSet{}
)

func cached(key string, f func() runeSet) runeSet {
	propMu.Lock()
	defer propMu.Unlock()
	if s, ok := propCache[key]; ok {
		return s
	}
	s := f()
	propCache[key] = s
	return s
}

func gc(name string) runeSet { return fromTable(unicode.Categories[name]) }

func prop(name string) runeSet { return fromTable(unicode.Properties[name]) }

// binary returns the set of a binary property by long name, or false when
// the property cannot be computed from Go's tables. The derived properties
// follow the derivations of DerivedCoreProperties.txt.
func binaryProp(long string) (runeSet, bool) {
	switch long {
	case "Any":
		return single(0, unicode.MaxRune), true
	case "ASCII":
		return single(0, 0x7F), true
	case "Assigned":
		return gc("Cn").complement(), true
	case "Alphabetic":
		return union(gc("Lu"), gc("Ll"), gc("Lt"), gc("Lm"), gc("Lo"), gc("Nl"), prop("Other_Alphabetic")), true
	case "Lowercase":
		return union(gc("Ll"), prop("Other_Lowercase")), true
	case "Uppercase":
		return union(gc("Lu"), prop("Other_Uppercase")), true
	case "Cased":
		return union(gc("Ll"), prop("Other_Lowercase"), gc("Lu"), prop("Other_Uppercase"), gc("Lt")), true
	case "Math":
		return union(gc("Sm"), prop("Other_Math")), true
	case "Grapheme_Extend":
		return union(gc("Me"), gc("Mn"), prop("Other_Grapheme_Extend")), true
	case "Grapheme_Base":
		excl := union(gc("Cc"), gc("Cf"), gc("Cs"), gc("Co"), gc("Cn"), gc("Zl"), gc("Zp"),
			gc("Me"), gc("Mn"), prop("Other_Grapheme_Extend"))
		return excl.complement(), true
	case "ID_Start":
		return minus(idStartBase(), union(prop("Pattern_Syntax"), prop("Pattern_White_Space"))), true
	case "ID_Continue":
		base := union(idStartBase(), gc("Mn"), gc("Mc"), gc("Nd"), gc("Pc"), prop("Other_ID_Continue"))
		return minus(base, union(prop("Pattern_Syntax"), prop("Pattern_White_Space"))), true
	}
	if t, ok := unicode.Properties[long]; ok {
		return fromTable(t), true
	}
	return nil, false
}

func idStartBase() runeSet {
	return union(gc("Lu"), gc("Ll"), gc("Lt"), gc("Lm"), gc("Lo"), gc("Nl"), prop("Other_ID_Start"))
}

// script returns the set of a Script value (long name or alias).
func script(name string) (set runeSet, known, supported bool) {
	if long, ok := scriptAliases[name]; ok {
		name = long
	}
	if name == "Unknown" {
		return cached("sc=Unknown", func() runeSet {
			var all []runeSet
			for _, t := range unicode.Scripts {
				all = append(all, fromTable(t))
			}
			return union(all...).complement()
		}), true, true
	}
	if t, ok := unicode.Scripts[name]; ok {
		return cached("sc="+name, func() runeSet { return fromTable(t) }), true, true
	}
	return nil, newerScripts[name], false
}

// property resolves the text between the braces of \p{…}. On failure it
// returns a message and whether the name is valid ECMA-262 that this package
// cannot compute (unsupported) rather than a syntax error.
func property(body string) (set runeSet, msg string, unsupported bool) {
	name, value, hasValue := strings.Cut(body, "=")
	if hasValue {
		switch name {
		case "General_Category", "gc":
			if s, ok := category(value); ok {
				return s, "", false
			}
			return nil, "invalid General_Category value " + value, false
		case "Script", "sc":
			s, known, supported := script(value)
			if supported {
				return s, "", false
			}
			if known {
				return nil, "unsupported Script " + value + " (newer than Go's Unicode " + unicode.Version + " tables)", true
			}
			return nil, "invalid Script value " + value, false
		case "Script_Extensions", "scx":
			_, known, supported := script(value)
			if known || supported {
				return nil, "unsupported property Script_Extensions", true
			}
			return nil, "invalid Script_Extensions value " + value, false
		}
		return nil, "invalid property name " + name, false
	}
	if s, ok := category(name); ok {
		return s, "", false
	}
	if long, ok := binaryAliases[name]; ok {
		s := cached("bin="+long, func() runeSet {
			s, _ := binaryProp(long)
			return s
		})
		if s != nil {
			return s, "", false
		}
		return nil, "unsupported property " + name, true
	}
	return nil, "invalid property name " + name, false
}

// category resolves a General_Category value: short names, long names and
// the aliases digit, punct, cntrl, Combining_Mark.
func category(name string) (runeSet, bool) {
	if long, ok := unicode.CategoryAliases[name]; ok {
		name = long
	}
	t, ok := unicode.Categories[name]
	if !ok {
		return nil, false
	}
	return cached("gc="+name, func() runeSet { return fromTable(t) }), true
}
