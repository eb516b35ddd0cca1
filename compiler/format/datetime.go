package format

import (
	"fmt"

	"github.com/schemac-dev/schemac/compiler/rx"
)

// date is RFC 3339 full-date: YYYY-MM-DD with the day bounded by the month's
// length, and February 29 only in Gregorian leap years (years 0000–9999; 0000
// is a leap year, as in Go's time package which the library uses).
func date(g gen) rx.Expr {
	d := g.digit()
	year := g.rep(d, 4, 4)
	// YY ≡ 0 (mod 4) over two digits: even tens with 0/4/8, odd tens with 2/6
	div4 := g.or(g.cat(g.set("02468"), g.set("048")), g.cat(g.set("13579"), g.set("26")))
	leapYear := g.or(
		// not a century: the last two digits are a non-zero multiple of 4
		g.cat(d, d, g.b.Minus(div4, g.lit("00"))),
		// a century divisible by 400
		g.cat(div4, g.lit("00")),
	)
	m31 := g.lits("01", "03", "05", "07", "08", "10", "12")
	m30 := g.lits("04", "06", "09", "11")
	dash := g.lit("-")
	day28 := g.or(g.cat(g.lit("0"), g.set("1-9")), g.cat(g.set("1"), d), g.cat(g.lit("2"), g.set("0-8")))
	return g.or(
		g.cat(year, dash, g.or(m31, m30, g.lit("02")), dash, day28),
		g.cat(year, dash, g.or(m31, m30), dash, g.lits("29", "30")),
		g.cat(year, dash, m31, dash, g.lit("31")),
		g.cat(leapYear, g.lit("-02-29")),
	)
}

// leapMinutes are the local minutes at which this package admits a leap
// second (":60"). The library accepts hh:mm:60 exactly when hh:mm minus the
// offset is 23:59 UTC. Admitting every local minute would make the automaton
// remember hour and minute through the seconds, fraction and offset (about
// 11 000 states), so we admit only the minutes that pair with offsets whose
// minute part is 00, 15, 30 or 45, which covers every real-world UTC offset:
// with "+hh:mm" the local minute is mm−1 (mod 60), with "-hh:mm" it is 59−mm.
var leapMinutes = []int{14, 29, 44, 59}

// fullTime is RFC 3339 full-time: hh:mm:ss[.frac](Z|±hh:mm), lower-case z
// allowed, with leap seconds as described at leapMinutes.
func fullTime(g gen) rx.Expr { return timeLang(g, leapMinutes) }

func timeLang(g gen, leapMins []int) rx.Expr {
	d := g.digit()
	hh := g.or(g.cat(g.set("01"), d), g.cat(g.lit("2"), g.set("0-3")))
	mm := g.cat(g.set("0-5"), d)
	frac := g.opt(g.cat(g.lit("."), g.plus(d)))
	z := g.set("zZ")
	offset := g.or(z, g.cat(g.set("+-"), hh, g.lit(":"), mm))
	normal := g.cat(hh, g.lit(":"), mm, g.lit(":"), mm, frac, offset)

	// Leap seconds. The library converts local time L = h*60+m with offset
	// O = zh*60+zm to hm = L−O (adding 1440 if negative) for "+" and L+O for
	// "-", and requires hm = 23*60+59. So "+" needs O = (L+1) mod 1440 and "-"
	// needs O = 1439−L; "Z" needs L = 1439.
	var leaps []rx.Expr
	for h := 0; h < 24; h++ {
		for _, m := range leapMins {
			l := h*60 + m
			plus := (l + 1) % 1440
			minus := 1439 - l
			offs := []rx.Expr{
				g.lit(fmt.Sprintf("+%02d:%02d", plus/60, plus%60)),
				g.lit(fmt.Sprintf("-%02d:%02d", minus/60, minus%60)),
			}
			if l == 1439 {
				offs = append(offs, z)
			}
			leaps = append(leaps, g.cat(g.lit(fmt.Sprintf("%02d:%02d:60", h, m)), frac, g.or(offs...)))
		}
	}
	return g.or(normal, g.or(leaps...))
}

// dateTime is RFC 3339 date-time: full-date ("T"|"t") full-time.
func dateTime(g gen) rx.Expr {
	return g.cat(g.sub("date"), g.set("Tt"), g.sub("time"))
}

// duration is the RFC 3339 Appendix A grammar (the one JSON Schema cites):
//
//	duration   = "P" (dur-date / dur-time / dur-week)
//	dur-date   = (dur-day / dur-month / dur-year) [dur-time]
//	dur-time   = "T" (dur-hour / dur-minute / dur-second)
//	dur-year   = 1*DIGIT "Y" [dur-month]
//	dur-month  = 1*DIGIT "M" [dur-day]
//	dur-day    = 1*DIGIT "D"
//	dur-hour   = 1*DIGIT "H" [dur-minute]
//	dur-minute = 1*DIGIT "M" [dur-second]
//	dur-second = 1*DIGIT "S"
//	dur-week   = 1*DIGIT "W"
//
// The library is more permissive: it also lets units be skipped ("P1Y2D",
// "PT1H5S"); we follow the grammar. Neither allows fractions ("PT0.5S").
func duration(g gen) rx.Expr {
	n := g.plus(g.digit())
	unit := func(u string, rest rx.Expr) rx.Expr { return g.cat(n, g.lit(u), g.opt(rest)) }
	day := g.cat(n, g.lit("D"))
	month := unit("M", day)
	year := unit("Y", month)
	second := g.cat(n, g.lit("S"))
	minute := unit("M", second)
	hour := unit("H", minute)
	durTime := g.cat(g.lit("T"), g.or(hour, minute, second))
	durDate := g.cat(g.or(day, month, year), g.opt(durTime))
	week := g.cat(n, g.lit("W"))
	return g.cat(g.lit("P"), g.or(durDate, durTime, week))
}
