package emit

import (
	"fmt"
	"math"
	"math/big"
	"strconv"

	. "github.com/dave/jennifer/jen"

	"github.com/schemac-dev/schemac/runtime/canon"
)

const (
	contractPkg = "github.com/schemac-dev/schemac/runtime/contract"
	canonPkg    = "github.com/schemac-dev/schemac/runtime/canon"
	maskPkg     = "github.com/schemac-dev/schemac/runtime/mask"
)

// path is a JSON pointer expression under construction: Go expressions of
// type string, joined with +.
type path []Code

func (p path) member(name string) path {
	return append(p[:len(p):len(p)], Lit("/"+escapeToken(name)))
}

func (p path) index(i Code) path {
	return append(p[:len(p):len(p)], Lit("/"), Qual("strconv", "Itoa").Call(i))
}

func (p path) key(k Code) path {
	return append(p[:len(p):len(p)], Lit("/"), Qual(contractPkg, "Escape").Call(k))
}

func (p path) expr() Code {
	var parts []Code
	for i, c := range p {
		if i > 0 {
			parts = append(parts, Op("+"))
		}
		parts = append(parts, c)
	}
	return Add(parts...)
}

func escapeToken(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '~':
			out = append(out, "~0"...)
		case '/':
			out = append(out, "~1"...)
		default:
			out = append(out, s[i])
		}
	}
	return string(out)
}

// hasChecks reports whether checkValue emits anything for a value of t.
func hasChecks(t *goType, mayBeNil bool) bool {
	c := t.checks
	switch t.kind {
	case kInt, kFloat:
		return c.min != "" || c.max != "" || c.exclMin != "" || c.exclMax != ""
	case kString:
		return c.minLen >= 0 || c.maxLen >= 0 || c.constStr != nil
	case kEnum, kStruct, kUnion:
		return true
	case kSlice:
		return !mayBeNil || c.minItems >= 0 || c.maxItems >= 0 || hasChecks(t.elem, false)
	case kMap:
		return !mayBeNil || c.minProps >= 0 || c.maxProps >= 0 || hasChecks(t.elem, false)
	}
	return false
}

// fail is `return contract.Errorf(ptr, format, args...)`.
func fail(p path, format string, args ...Code) Code {
	return Return(Qual(contractPkg, "Errorf").Call(append([]Code{p.expr(), Lit(format)}, args...)...))
}

// checkValue appends to g the checks of a value val (an addressable Go
// expression of type t) at JSON pointer p. mayBeNil says whether a nil
// slice or map is allowed (it stands for JSON null or an absent member).
func checkValue(g *Group, val *Statement, p path, t *goType, mayBeNil bool, depth int) {
	c := t.checks
	switch t.kind {
	case kInt:
		intBound(g, val, p, c.min, "minimum", "<", roundUp, 0)
		intBound(g, val, p, c.exclMin, "exclusiveMinimum", "<", roundDown, 1)
		intBound(g, val, p, c.max, "maximum", ">", roundDown, 0)
		intBound(g, val, p, c.exclMax, "exclusiveMaximum", ">", roundUp, -1)
	case kFloat:
		floatBound(g, val, p, c.min, "minimum", "<")
		floatBound(g, val, p, c.exclMin, "exclusiveMinimum", "<=")
		floatBound(g, val, p, c.max, "maximum", ">")
		floatBound(g, val, p, c.exclMax, "exclusiveMaximum", ">=")
	case kString:
		if c.constStr != nil {
			g.If(String().Call(val.Clone()).Op("!=").Lit(*c.constStr)).Block(
				fail(p, "%q is not the constant %q", val.Clone(), Lit(*c.constStr)))
		}
		count := Qual("unicode/utf8", "RuneCountInString").Call(String().Call(val.Clone()))
		if c.minLen > 0 {
			g.If(count.Clone().Op("<").Lit(c.minLen)).Block(
				fail(p, "%q is shorter than minLength %d", val.Clone(), Lit(c.minLen)))
		}
		if c.maxLen >= 0 {
			g.If(count.Clone().Op(">").Lit(c.maxLen)).Block(
				fail(p, "%q is longer than maxLength %d", val.Clone(), Lit(c.maxLen)))
		}
	case kEnum:
		g.If(Op("!").Add(val.Clone()).Dot("Valid").Call()).Block(
			fail(p, "%q is not one of the values the enum allows", val.Clone()))
	case kStruct, kUnion:
		g.If(Err().Op(":=").Add(val.Clone()).Dot("check").Call(p.expr()), Err().Op("!=").Nil()).Block(Return(Err()))
	case kSlice, kMap:
		if !mayBeNil {
			what := "[]"
			if t.kind == kMap {
				what = "{}"
			}
			g.If(val.Clone().Op("==").Nil()).Block(
				fail(p, "nil is JSON null, which is not allowed here (use an empty value for "+what+")"))
		}
		lo, hi, noun := c.minItems, c.maxItems, "items"
		if t.kind == kMap {
			lo, hi, noun = c.minProps, c.maxProps, "members"
		}
		n := Len(val.Clone())
		if lo > 0 {
			g.If(n.Clone().Op("<").Lit(lo)).Block(fail(p, "%d "+noun+", fewer than the minimum %d", n.Clone(), Lit(lo)))
		}
		if hi >= 0 {
			g.If(n.Clone().Op(">").Lit(hi)).Block(fail(p, "%d "+noun+", more than the maximum %d", n.Clone(), Lit(hi)))
		}
		if !hasChecks(t.elem, false) {
			return
		}
		if t.kind == kSlice {
			i := Id(fmt.Sprintf("i%d", depth))
			g.For(i.Clone().Op(":=").Range().Add(val.Clone())).BlockFunc(func(g *Group) {
				checkValue(g, val.Clone().Index(i.Clone()), p.index(i.Clone()), t.elem, false, depth+1)
			})
			return
		}
		k, e := Id(fmt.Sprintf("k%d", depth)), Id(fmt.Sprintf("e%d", depth))
		g.For(List(Id("_"), k.Clone()).Op(":=").Range().Qual("slices", "Sorted").Call(Qual("maps", "Keys").Call(val.Clone()))).BlockFunc(func(g *Group) {
			g.Add(e.Clone()).Op(":=").Add(val.Clone()).Index(k.Clone())
			checkValue(g, e.Clone(), p.key(k.Clone()), t.elem, false, depth+1)
		})
	}
}

type rounding int

const (
	roundUp rounding = iota
	roundDown
)

// intBound checks an int64 value against a bound written as any JSON
// number: the bound becomes the equivalent inclusive integer bound, so the
// check is exact. A bound beyond int64 is left to the automaton.
func intBound(g *Group, val *Statement, p path, lit, keyword, op string, r rounding, shift int64) {
	if lit == "" {
		return
	}
	rat, ok := new(big.Rat).SetString(lit)
	if !ok {
		return
	}
	q, m := new(big.Int).QuoRem(rat.Num(), rat.Denom(), new(big.Int))
	if m.Sign() != 0 {
		// QuoRem truncates toward zero; adjust to the wanted rounding.
		if r == roundUp && rat.Sign() > 0 {
			q.Add(q, big.NewInt(1))
		}
		if r == roundDown && rat.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		}
	}
	q.Add(q, big.NewInt(shift))
	if !q.IsInt64() || q.Int64() == math.MinInt64 || q.Int64() == math.MaxInt64 {
		return
	}
	g.If(val.Clone().Op(op).Lit(int(q.Int64()))).Block(
		fail(p, "%d is "+boundWords[keyword]+" "+lit, val.Clone()))
}

// floatBound checks a float64 value against a bound, only when the bound
// is the shortest decimal of its float64: then comparing floats agrees
// exactly with comparing the decimals the decoder writes.
func floatBound(g *Group, val *Statement, p path, lit, keyword, op string) {
	if lit == "" {
		return
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) || strconv.FormatFloat(f, 'f', -1, 64) != canon.FormatNumber(lit) {
		return
	}
	g.If(val.Clone().Op(op).Lit(f)).Block(
		fail(p, "%v is "+boundWords[keyword]+" "+lit, val.Clone()))
}

var boundWords = map[string]string{
	"minimum":          "less than the minimum",
	"exclusiveMinimum": "not greater than the exclusiveMinimum",
	"maximum":          "greater than the maximum",
	"exclusiveMaximum": "not less than the exclusiveMaximum",
}
