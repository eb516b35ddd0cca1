package dataset

import (
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/brianvoe/gofakeit/v7"
)

// person is everything a biography may say about its subject, plus how this
// particular text spells it.
type person struct {
	first, middle, last string // middle is an initial with its dot ("Q.") or ""
	title               string // "Dr." or ""
	email               string // "" when the text gives none
	years               int
	skills              []string
	role                string // an element of Roles
	roleText            string // how the prose spells the role: "senior back-end developer"
	roleTitle           string // how a header line spells it: "Senior Backend Engineer"
	company, domain     string
	pro                 pronouns
	yearsStyle          yearsStyle
}

func (p *person) profile() Profile {
	pr := Profile{FullName: p.fullName(), YearsOfExperience: p.years, Skills: p.skills, PrimaryRole: p.role}
	if p.email != "" {
		e := p.email
		pr.Email = &e
	}
	return pr
}

// fullName is the full_name value: given name, middle initial, family
// name; never the title.
func (p *person) fullName() string {
	if p.middle != "" {
		return p.first + " " + p.middle + " " + p.last
	}
	return p.first + " " + p.last
}

type pronouns struct {
	subj, obj, poss string
	plural          bool // "they are", "they work"
}

var pronounSets = []pronouns{
	{"she", "her", "her", false},
	{"he", "him", "his", false},
	{"they", "them", "their", true},
}

// yearsStyle is how the text writes the years of experience.
type yearsStyle int

const (
	yearsDigits yearsStyle = iota // "7 years"
	yearsWords                    // "seven years"
	yearsPlus                     // "7+ years"
)

// Some names that gofakeit's English lists lack, so that full_name is not
// always ASCII. asciiFold spells them for e-mail addresses.
var (
	intlFirst = []string{"José", "Zoë", "Björn", "Chloé", "Søren", "Łukasz", "Anaïs", "Jürgen", "Inés", "Ngọc", "Renée", "Dvořák"}
	intlLast  = []string{"García", "Núñez", "Müller", "Søndergaard", "Kowalczyk", "Lefèvre", "Çelik", "Ødegaard", "Nguyễn", "Škoda", "Ibáñez", "Gómez"}
	asciiFold = strings.NewReplacer("é", "e", "ë", "e", "è", "e", "ö", "o", "ø", "o", "Ø", "o", "ł", "l", "Ł", "l",
		"ï", "i", "ü", "u", "ú", "u", "ñ", "n", "ọ", "o", "ễ", "e", "ř", "r", "á", "a", "ó", "o", "Ç", "c", "ç", "c", "Š", "s", "š", "s")
)

var mailProviders = []string{"gmail.com", "outlook.com", "proton.me", "fastmail.com", "yahoo.com", "hey.com"}

// rolePhrases are ways prose names each role (lower case; the enum value
// itself is used by header-style templates).
var rolePhrases = map[string][]string{
	"Backend Engineer":  {"backend engineer", "back-end engineer", "backend developer", "server-side engineer"},
	"Frontend Engineer": {"frontend engineer", "front-end engineer", "front-end developer", "frontend developer"},
	"Data Scientist":    {"data scientist", "data scientist", "applied data scientist", "machine-learning data scientist"},
	"DevOps Engineer":   {"DevOps engineer", "DevOps engineer", "DevOps specialist", "DevOps and infrastructure engineer"},
	"Product Manager":   {"product manager", "product manager", "technical product manager", "product manager"},
}

var seniority = []string{"senior", "lead", "staff", "principal"}

// skillPools hold each role's typical skills; generalSkills are drawn for
// any role. Skills are written in the text exactly as in the completion.
var (
	skillPools = map[string][]string{
		"Backend Engineer":  {"Go", "Java", "Python", "PostgreSQL", "Redis", "Kafka", "gRPC", "Rust", "Node.js", "Spring Boot", "Django", "MySQL", "C#", "GraphQL"},
		"Frontend Engineer": {"JavaScript", "TypeScript", "React", "Vue.js", "Angular", "CSS", "HTML", "Next.js", "Svelte", "Tailwind CSS", "Webpack", "Redux", "Figma"},
		"Data Scientist":    {"Python", "R", "SQL", "pandas", "scikit-learn", "PyTorch", "TensorFlow", "Spark", "statistics", "Tableau", "NumPy", "Jupyter", "XGBoost"},
		"DevOps Engineer":   {"Kubernetes", "Docker", "Terraform", "AWS", "GCP", "Azure", "Ansible", "Jenkins", "Prometheus", "Grafana", "Linux", "Bash", "CI/CD", "Helm"},
		"Product Manager":   {"roadmapping", "user research", "Jira", "A/B testing", "SQL", "stakeholder management", "Agile", "Scrum", "Figma", "product analytics", "OKRs", "Amplitude"},
	}
	generalSkills = []string{"Git", "Python", "SQL", "Docker", "technical writing", "system design", "C++", "Excel"}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// chance is true with probability p.
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

func newPerson(r *rand.Rand, f *gofakeit.Faker, emailRate float64) *person {
	p := &person{}
	if chance(r, 0.06) {
		p.first, p.last = pick(r, intlFirst), pick(r, intlLast)
	} else {
		p.first, p.last = f.FirstName(), f.LastName()
	}
	if chance(r, 0.12) {
		p.middle = f.MiddleName()[:1] + "."
	}
	if chance(r, 0.12) {
		p.title = "Dr."
	}
	p.pro = pick(r, pronounSets)
	p.role = pick(r, Roles)
	p.years = 1 + r.IntN(20)
	p.roleText = pick(r, rolePhrases[p.role])
	p.roleTitle = p.role
	if p.years >= 6 && chance(r, 0.3) {
		s := pick(r, seniority)
		p.roleText = s + " " + p.roleText
		p.roleTitle = strings.ToUpper(s[:1]) + s[1:] + " " + p.role
	}
	switch x := r.Float64(); {
	case x < 0.55:
		p.yearsStyle = yearsDigits
	case x < 0.9:
		p.yearsStyle = yearsWords
	default:
		p.yearsStyle = yearsPlus
	}
	p.skills = pickSkills(r, p.role)
	p.company = strings.TrimRight(f.Company(), ".") // "Dow Jones & Co." would end sentences with ".."
	p.domain = slug(p.company) + "." + f.DomainSuffix()
	if chance(r, emailRate) {
		p.email = makeEmail(r, p)
	}
	return p
}

// pickSkills draws 3–6 distinct skills, mostly from the role's pool.
func pickSkills(r *rand.Rand, role string) []string {
	n := 3 + r.IntN(4)
	out := make([]string, 0, n)
	for len(out) < n {
		s := pick(r, skillPools[role])
		if chance(r, 0.2) {
			s = pick(r, generalSkills)
		}
		dup := false
		for _, t := range out {
			dup = dup || strings.EqualFold(s, t)
		}
		if !dup {
			out = append(out, s)
		}
	}
	return out
}

// slug keeps the ASCII letters and digits of s, lower-cased.
func slug(s string) string {
	s = strings.ToLower(asciiFold.Replace(s))
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return "mail"
	}
	return b.String()
}

func makeEmail(r *rand.Rand, p *person) string {
	first, last := slug(p.first), slug(p.last)
	var local string
	switch r.IntN(5) {
	case 0:
		local = first + "." + last
	case 1:
		local = first[:1] + last
	case 2:
		local = first + "_" + last + strconv.Itoa(10+r.IntN(90))
	case 3:
		local = first
	default:
		local = last + "." + first[:1]
	}
	domain := p.domain
	if chance(r, 0.5) {
		domain = pick(r, mailProviders)
	}
	return local + "@" + domain
}
