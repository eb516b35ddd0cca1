package dataset

import "strings"

var (
	ones = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
		"eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
	tens = []string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}
)

// Words spells n (0 ≤ n ≤ 99) in English words, lower case, tens and units
// joined by a hyphen: 7 → "seven", 20 → "twenty", 42 → "forty-two". Other
// values are not spelled: it returns "".
func Words(n int) string {
	switch {
	case n < 0 || n > 99:
		return ""
	case n < 20:
		return ones[n]
	case n%10 == 0:
		return tens[n/10]
	}
	return tens[n/10] + "-" + ones[n%10]
}

// ParseWords is the inverse of Words (case-insensitive); ok is false for
// anything Words does not produce.
func ParseWords(s string) (n int, ok bool) {
	s = strings.ToLower(s)
	for i := 0; i <= 99; i++ {
		if Words(i) == s {
			return i, true
		}
	}
	return 0, false
}
