package lang

import (
	"fmt"
	"slices"

	"github.com/schemac-dev/schemac/compiler/schema"
	"github.com/schemac-dev/schemac/runtime/canon"
)

// Order is the global member order of a compiled schema: names rank by
// their first appearance in the schema document (see NewOrder). It is the
// runtime's canon.Order, so generated code writes members the same way.
type Order = canon.Order

// NewOrder ranks member names: first every name in a "properties", in
// document order; then names that appear only in "required",
// "dependentRequired", "dependencies" or "dependentSchemas".
func NewOrder(root *schema.Value) *Order {
	var names []string
	var walk func(v *schema.Value, pass int)
	walk = func(v *schema.Value, pass int) {
		switch v.Kind {
		case schema.Object:
			for _, m := range v.Members {
				switch {
				case pass == 0 && m.Key == "properties" && m.Value.Kind == schema.Object:
					for _, p := range m.Value.Members {
						names = append(names, p.Key)
					}
				case pass == 1 && m.Key == "required":
					for _, it := range m.Value.Items {
						if it.Kind == schema.String {
							names = append(names, it.Str)
						}
					}
				case pass == 1 && (m.Key == "dependentRequired" || m.Key == "dependencies" || m.Key == "dependentSchemas"):
					for _, d := range m.Value.Members {
						names = append(names, d.Key)
						for _, it := range d.Value.Items {
							if it.Kind == schema.String {
								names = append(names, it.Str)
							}
						}
					}
				}
				walk(m.Value, pass)
			}
		case schema.Array:
			for _, it := range v.Items {
				walk(it, pass)
			}
		}
	}
	walk(root, 0)
	walk(root, 1)
	return canon.NewOrder(names) // a repeated name keeps its first rank
}

// Format writes v as the decoder would: in layout l (Flexible writes no
// whitespace), members in order o, numbers and strings canonically spelled
// (see canon.FormatNumber and canon.AppendString). It is canon.Format for a
// parsed value; both use the same rules.
func Format(v *schema.Value, l Layout, o *Order) []byte {
	return appendValue(nil, v, l, o, 0)
}

func appendValue(buf []byte, v *schema.Value, l Layout, o *Order, d int) []byte {
	switch v.Kind {
	case schema.Null:
		return append(buf, "null"...)
	case schema.Bool:
		if v.Bool {
			return append(buf, "true"...)
		}
		return append(buf, "false"...)
	case schema.Number:
		return append(buf, canon.FormatNumber(v.Num)...)
	case schema.String:
		return canon.AppendString(buf, v.Str)
	case schema.Array:
		if len(v.Items) == 0 {
			return append(buf, "[]"...)
		}
		buf = append(buf, '[')
		buf = append(buf, l.Open(d)...)
		for i, it := range v.Items {
			if i > 0 {
				buf = append(buf, l.Sep(d)...)
			}
			buf = appendValue(buf, it, l, o, d+1)
		}
		buf = append(buf, l.Close(d)...)
		return append(buf, ']')
	case schema.Object:
		if len(v.Members) == 0 {
			return append(buf, "{}"...)
		}
		ms := slices.Clone(v.Members)
		slices.SortStableFunc(ms, func(a, b schema.Member) int { return o.Compare(a.Key, b.Key) })
		buf = append(buf, '{')
		buf = append(buf, l.Open(d)...)
		for i, m := range ms {
			if i > 0 {
				buf = append(buf, l.Sep(d)...)
			}
			buf = canon.AppendString(buf, m.Key)
			buf = append(buf, l.Colon()...)
			buf = appendValue(buf, m.Value, l, o, d+1)
		}
		buf = append(buf, l.Close(d)...)
		return append(buf, '}')
	}
	panic(fmt.Sprintf("lang: bad value kind %v", v.Kind))
}
