package dataset

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/brianvoe/gofakeit/v7"
)

// bio writes one text about a person; its methods are the phrasings the
// templates share.
type bio struct {
	r *rand.Rand
	f *gofakeit.Faker
	p *person
}

// name is the first mention: title, given name, middle initial, family name.
func (b *bio) name() string {
	if b.p.title != "" {
		return b.p.title + " " + b.p.fullName()
	}
	return b.p.fullName()
}

// ref is a later mention by name ("Dr. Smith", "Jane").
func (b *bio) ref() string {
	if b.p.title != "" && chance(b.r, 0.6) {
		return b.p.title + " " + b.p.last
	}
	return b.p.first
}

// v picks the verb form agreeing with the subject pronoun.
func (b *bio) v(singular, plural string) string {
	if b.p.pro.plural {
		return plural
	}
	return singular
}

// subj is the subject pronoun with its verb: b.subj("is", "are") → "they are".
func (b *bio) subj(singular, plural string) string {
	return b.p.pro.subj + " " + b.v(singular, plural)
}

func capFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func article(s string) string {
	if strings.ContainsRune("aeioAEIO", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

func (b *bio) aRole() string { return article(b.p.roleText) }

// years writes the years of experience: "7 years", "seven years", "7+ years".
func (b *bio) years() string {
	n := b.p.years
	unit := " years"
	if n == 1 {
		unit = " year"
	}
	switch b.p.yearsStyle {
	case yearsWords:
		return Words(n) + unit
	case yearsPlus:
		return strconv.Itoa(n) + "+ years"
	}
	return strconv.Itoa(n) + unit
}

// yearsShort is the informal spelling: "7 yrs", "seven yrs".
func (b *bio) yearsShort() string {
	n := b.p.years
	unit := " yrs"
	if n == 1 {
		unit = " yr"
	}
	if b.p.yearsStyle == yearsWords {
		return Words(n) + unit
	}
	if b.p.yearsStyle == yearsPlus {
		return strconv.Itoa(n) + "+" + unit
	}
	return strconv.Itoa(n) + unit
}

// yearsAdj is the adjective form: "seven-year", "7-year".
func (b *bio) yearsAdj() string {
	if b.p.yearsStyle == yearsWords {
		return Words(b.p.years) + "-year"
	}
	return strconv.Itoa(b.p.years) + "-year"
}

// list joins items in order: "A", "A and B", "A, B and C" or "A, B, and C".
func (b *bio) list(xs []string) string {
	switch len(xs) {
	case 1:
		return xs[0]
	case 2:
		return xs[0] + " and " + xs[1]
	}
	last := " and "
	if chance(b.r, 0.4) {
		last = ", and "
	}
	return strings.Join(xs[:len(xs)-1], ", ") + last + xs[len(xs)-1]
}

// chunks cuts xs into two or three non-empty consecutive pieces.
func (b *bio) chunks(xs []string) [][]string {
	k := 2
	if len(xs) >= 5 && chance(b.r, 0.5) {
		k = 3
	}
	var out [][]string
	for len(xs) > 0 {
		n := len(xs) / k
		if n == 0 {
			n = 1
		}
		if k == 1 {
			n = len(xs)
		}
		out = append(out, xs[:n])
		xs = xs[n:]
		k--
	}
	return out
}

// spreadSkills writes the skills over two or three sentences, in order.
func (b *bio) spreadSkills() []string {
	firsts := []func(s string) string{
		func(s string) string { return capFirst(b.subj("works", "work")) + " mostly with " + s + "." },
		func(s string) string { return "Day to day, " + b.subj("uses", "use") + " " + s + "." },
		func(s string) string { return capFirst(b.p.pro.poss) + " core toolkit is " + s + "." },
		func(s string) string { return "Most of " + b.p.pro.poss + " work involves " + s + "." },
	}
	rests := []func(s string) string{
		func(s string) string { return capFirst(b.subj("is", "are")) + " also comfortable with " + s + "." },
		func(s string) string { return "On top of that, " + b.subj("knows", "know") + " " + s + "." },
		func(s string) string {
			return capFirst(b.subj("has", "have")) + " hands-on experience with " + s + " as well."
		},
		func(s string) string { return b.ref() + " also brings " + s + " to the table." },
	}
	var out []string
	for i, c := range b.chunks(b.p.skills) {
		if i == 0 {
			out = append(out, pick(b.r, firsts)(b.list(c)))
		} else {
			out = append(out, pick(b.r, rests)(b.list(c)))
		}
	}
	return out
}

// otherName is someone else: a colleague, a manager, a signer.
func (b *bio) otherName() string {
	for {
		n := b.f.FirstName() + " " + b.f.LastName()
		if !strings.Contains(n, b.p.first) && !strings.Contains(n, b.p.last) {
			return n
		}
	}
}

var hobbies = []string{"rock climbing", "baking sourdough", "playing chess", "film photography", "trail running", "woodworking", "birdwatching", "playing the cello"}
var fields = []string{"physics", "mathematics", "economics", "linguistics", "electrical engineering", "biology", "philosophy"}

// distractor is a sentence about something else: other people, other
// numbers, other e-mail addresses.
func (b *bio) distractor() string {
	p := b.p
	switch b.r.IntN(10) {
	case 0:
		return capFirst(b.subj("is", "are")) + " based in " + b.f.City() + "."
	case 1:
		return capFirst(p.pro.poss) + " team at " + p.company + " has " + strconv.Itoa(3+b.r.IntN(38)) + " people."
	case 2:
		return p.company + " was founded in " + strconv.Itoa(1985+b.r.IntN(34)) + "."
	case 3:
		return "Outside of work, " + b.subj("enjoys", "enjoy") + " " + pick(b.r, hobbies) + "."
	case 4:
		k := 3 + b.r.IntN(28)
		if k == p.years {
			k++
		}
		return capFirst(p.pro.poss) + " manager, " + b.otherName() + ", has been in the industry for " + strconv.Itoa(k) + " years."
	case 5:
		return capFirst(b.subj("holds", "hold")) + " a degree in " + pick(b.r, fields) + "."
	case 6:
		return capFirst(b.subj("has", "have")) + " given " + Words(2+b.r.IntN(9)) + " conference talks."
	case 7:
		return "For general questions, contact info@" + p.domain + "."
	case 8:
		return "Last year " + b.subj("spent", "spent") + " " + strconv.Itoa(2+b.r.IntN(5)) + " months travelling through " + b.f.Country() + "."
	default:
		return capFirst(b.subj("mentors", "mentor")) + " " + Words(2+b.r.IntN(5)) + " junior colleagues."
	}
}

// withDistractors inserts up to max distractor sentences among sentences,
// never before the first.
func (b *bio) withDistractors(sentences []string, max int) []string {
	n := b.r.IntN(max + 1)
	for range n {
		at := 1 + b.r.IntN(len(sentences))
		sentences = slices.Insert(sentences, at, b.distractor())
	}
	return sentences
}

func (b *bio) prose(sentences []string, max int) string {
	return strings.Join(b.withDistractors(sentences, max), " ")
}

// noEmail is what a field list says when there is no address ("" to leave
// the line out).
func (b *bio) noEmail() string {
	return pick(b.r, []string{"", "", "N/A", "not provided", "none given", "—"})
}

// bioTemplate is one way of writing a biography.
type bioTemplate struct {
	name  string
	write func(b *bio) string
}

// DefaultHeldOut names the templates that only validation and test examples
// use.
var DefaultHeldOut = []string{"qa", "chat", "interview_notes", "press_release"}

// Templates lists the biography template names, in a fixed order.
func Templates() []string {
	out := make([]string, len(bioTemplates))
	for i, t := range bioTemplates {
		out[i] = t.name
	}
	return out
}

var bioTemplates = []bioTemplate{
	{"article", func(b *bio) string {
		p := b.p
		s := []string{
			b.name() + " is " + b.aRole() + " with " + b.years() + " of experience.",
			capFirst(b.subj("is", "are")) + " skilled in " + b.list(p.skills) + ".",
		}
		if p.email != "" {
			s = append(s, pick(b.r, []string{
				capFirst(p.pro.subj) + " can be reached at " + p.email + ".",
				"Contact: " + p.email + ".",
			}))
		}
		return b.prose(s, 1)
	}},
	{"resume", func(b *bio) string {
		p := b.p
		name := pick(b.r, []string{"Name", "Full name", "Candidate"})
		role := pick(b.r, []string{"Role", "Title", "Position"})
		skills := pick(b.r, []string{"Skills", "Tech stack", "Core skills"})
		lines := []string{name + ": " + b.name()}
		body := []string{role + ": " + p.roleTitle, skills + ": " + strings.Join(p.skills, ", ")}
		if b.p.yearsStyle == yearsDigits && chance(b.r, 0.5) {
			body = append(body, "Years of experience: "+strconv.Itoa(p.years))
		} else {
			body = append(body, "Experience: "+b.years())
		}
		label := pick(b.r, []string{"Email", "E-mail", "Contact"})
		if p.email != "" {
			body = append(body, label+": "+p.email)
		} else if s := b.noEmail(); s != "" {
			body = append(body, label+": "+s)
		}
		if chance(b.r, 0.4) {
			body = append(body, "Location: "+b.f.City())
		}
		if chance(b.r, 0.3) {
			body = append(body, "Notice period: "+strconv.Itoa(2+b.r.IntN(11))+" weeks")
		}
		b.r.Shuffle(len(body), func(i, j int) { body[i], body[j] = body[j], body[i] })
		return strings.Join(append(lines, body...), "\n")
	}},
	{"first_person", func(b *bio) string {
		p := b.p
		s := []string{
			pick(b.r, []string{"Hi, I'm ", "Hello! My name is ", "I'm "}) + b.name() + ".",
			"I've been " + b.aRole() + " for " + b.years() + " now.",
			pick(b.r, []string{"Most of my work is in ", "I mainly work with ", "My toolbox: "}) + b.list(p.skills) + ".",
		}
		if chance(b.r, 0.3) {
			s = append(s, "Outside of work I enjoy "+pick(b.r, hobbies)+".")
		}
		if p.email != "" {
			s = append(s, pick(b.r, []string{"Feel free to email me at ", "Drop me a line: ", "You can reach me at "})+p.email+".")
		}
		return strings.Join(s, " ")
	}},
	{"team_page", func(b *bio) string {
		p := b.p
		s := []string{
			b.name() + " joined " + p.company + " as " + b.aRole() + " and brings " + b.years() + " of experience.",
		}
		s = append(s, b.spreadSkills()...)
		if p.email != "" {
			s = append(s, "Say hi at "+p.email+".")
		}
		return "Meet " + p.first + "!\n\n" + b.prose(s, 2)
	}},
	{"speaker_bio", func(b *bio) string {
		p := b.p
		head := b.name()
		if p.email != "" {
			head += " (" + p.email + ")"
		}
		s := []string{
			head + " is " + b.aRole() + " at " + p.company + " with " + b.years() + " in the field.",
			capFirst(b.subj("specializes", "specialize")) + " in " + b.list(p.skills) + ".",
		}
		return b.prose(s, 2)
	}},
	{"recommendation", func(b *bio) string {
		p := b.p
		s := []string{
			"I am writing to recommend " + b.name() + ", " + b.aRole() + " with " + b.years() + " of experience.",
			"During our time working together, " + b.subj("showed", "showed") + " real depth in " + b.list(p.skills) + ".",
		}
		text := "To whom it may concern,\n\n" + b.prose(s, 2)
		if p.email != "" {
			text += "\n\n" + b.ref() + " can be reached at " + p.email + "."
		}
		return text + "\n\nSincerely,\n" + b.otherName()
	}},
	{"headline", func(b *bio) string {
		p := b.p
		parts := []string{b.name(), p.roleTitle, pick(b.r, []string{b.years(), b.yearsShort()}), strings.Join(p.skills, " · ")}
		if p.email != "" {
			parts = append(parts, p.email)
		}
		return strings.Join(parts, " | ")
	}},
	{"narrative", func(b *bio) string {
		p := b.p
		s := []string{b.name() + " has worked as " + b.aRole() + " for " + b.years() + "."}
		s = append(s, b.spreadSkills()...)
		if p.email != "" {
			s = append(s, "The best way to reach "+p.pro.obj+" is "+p.email+".")
		}
		return b.prose(s, 2)
	}},
	{"skills_first", func(b *bio) string {
		p := b.p
		s := b.list(p.skills) + ": these are the tools " + b.name() + " reaches for every day."
		s += " " + capFirst(b.subj("has", "have")) + " been " + b.aRole() + " for " + b.years()
		if p.email != "" {
			s += " and can be contacted via " + p.email
		}
		return s + "."
	}},
	{"roster", func(b *bio) string {
		p := b.p
		given := p.first
		if p.middle != "" {
			given += " " + p.middle
		}
		s := p.last + ", " + given + " — " + p.roleTitle + ", " + b.years() + " of experience. Skills: " + strings.Join(p.skills, "; ") + "."
		if p.email != "" {
			s += " Email: " + p.email + "."
		}
		return s
	}},
	{"email_intro", func(b *bio) string {
		p := b.p
		s := []string{
			"Please welcome " + b.name() + ", who joins us as " + b.aRole() + ".",
			p.first + " has " + b.years() + " of experience and knows " + b.list(p.skills) + " inside out.",
		}
		text := "Subject: Welcome " + p.first + "!\n\nHi all,\n\n" + b.prose(s, 2)
		if p.email != "" {
			text += "\n\nYou can reach " + p.pro.obj + " at " + p.email + "."
		}
		return text + "\n\nBest,\n" + b.otherName()
	}},
	{"bullets", func(b *bio) string {
		p := b.p
		m := pick(b.r, []string{"-", "*", "•"})
		lines := []string{"About " + b.name() + ":",
			m + " Role: " + p.roleTitle,
			m + " " + capFirst(b.years()) + " of experience",
			m + " Works with " + b.list(p.skills),
		}
		if p.email != "" {
			lines = append(lines, m+" Email: "+p.email)
		}
		if chance(b.r, 0.3) {
			lines = append(lines, m+" Hobbies: "+pick(b.r, hobbies))
		}
		return strings.Join(lines, "\n")
	}},

	// Held out of training by default (DefaultHeldOut).

	{"qa", func(b *bio) string {
		p := b.p
		lines := []string{
			"Q: What does " + b.name() + " do?",
			"A: " + capFirst(b.subj("is", "are")) + " " + b.aRole() + ".",
			"Q: How long " + b.v("has ", "have ") + p.pro.subj + " been doing it?",
			"A: " + capFirst(b.years()) + " so far.",
			"Q: Which technologies " + b.v("does ", "do ") + p.pro.subj + " use?",
			"A: " + b.list(p.skills) + ".",
			"Q: How can I contact " + p.pro.obj + "?",
		}
		if p.email != "" {
			lines = append(lines, "A: By email, at "+p.email+".")
		} else {
			lines = append(lines, "A: No email address was shared.")
		}
		return strings.Join(lines, "\n")
	}},
	{"chat", func(b *bio) string {
		p := b.p
		s := "hey team 👋 please welcome " + b.name() + "! " + p.pro.subj + " " + b.v("is", "are") + " our new " + p.roleText +
			", " + b.yearsShort() + " exp, knows " + strings.Join(p.skills, "/") + "."
		if p.email != "" {
			s += " ping " + p.pro.obj + " at " + p.email
		}
		if chance(b.r, 0.4) {
			s += " (standup is at " + strconv.Itoa(9+b.r.IntN(3)) + ":30 btw)"
		}
		return s
	}},
	{"interview_notes", func(b *bio) string {
		p := b.p
		n := len(p.skills)
		lines := []string{
			"Interview notes",
			"Candidate: " + b.name(),
			"Currently " + b.aRole() + "; " + b.years() + " in the industry.",
			"Strong on " + strings.Join(p.skills[:n-1], ", ") + "; also mentioned " + p.skills[n-1] + ".",
			"Interviewer: " + b.otherName() + " (" + strconv.Itoa(2+b.r.IntN(15)) + " years at the company)",
		}
		if p.email != "" {
			lines = append(lines, "Contact: "+p.email)
		} else {
			lines = append(lines, "No contact email on file.")
		}
		return strings.Join(lines, "\n")
	}},
	{"press_release", func(b *bio) string {
		p := b.p
		s := []string{
			strings.ToUpper(b.f.City()) + " — " + p.company + " today announced that " + b.name() + " has joined the company as " + p.roleTitle + ".",
			b.ref() + " brings " + b.years() + " of experience and expertise in " + b.list(p.skills) + ".",
			"\"We are thrilled to have " + p.first + " on board,\" said " + b.otherName() + ", CEO of " + p.company + ".",
			"Founded in " + strconv.Itoa(1985+b.r.IntN(34)) + ", " + p.company + " employs " + strconv.Itoa(20+b.r.IntN(5000)) + " people.",
		}
		if p.email != "" {
			s = append(s, b.ref()+" can be reached at "+p.email+".")
		}
		s = append(s, "Media contact: press@"+p.domain)
		return strings.Join(s, " ")
	}},
}
