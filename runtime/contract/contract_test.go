package contract_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/schemac-dev/schemac/gen/functioncall"
	"github.com/schemac-dev/schemac/gen/invoice"
	"github.com/schemac-dev/schemac/gen/userprofile"
	"github.com/schemac-dev/schemac/runtime/canon"
	"github.com/schemac-dev/schemac/runtime/contract"
)

const profile = `{
  "full_name": "Alex Ray",
  "email": "alex.ray@example.com",
  "years_of_experience": 9,
  "skills": ["Go", "AWS"],
  "primary_role": "DevOps Engineer"
}`

const inv = `{
  "invoice_number": "INV-20931",
  "issue_date": "2026-11-02",
  "seller": {"name": "Acme GmbH", "vat_id": "DE123456789", "address": {"street": "Hauptstr. 1", "city": "Berlin", "country": "DE"}},
  "buyer": {"name": "Jo Smith", "address": {"street": "1 Main St", "city": "Leeds", "postal_code": "LS1", "country": "GB"}},
  "currency": "EUR",
  "line_items": [
    {"description": "Consulting", "quantity": 3, "unit_price": 120.5, "tax_rate": 0.19},
    {"description": "Travel", "quantity": 1, "unit_price": 80}
  ],
  "total": 510.57
}`

func TestParseValid(t *testing.T) {
	p, err := userprofile.Parse([]byte(profile))
	if err != nil {
		t.Fatal(err)
	}
	if p.FullName != "Alex Ray" || p.Email == nil || *p.Email != "alex.ray@example.com" ||
		p.YearsOfExperience != 9 || len(p.Skills) != 2 || p.PrimaryRole != userprofile.PrimaryRoleDevOpsEngineer {
		t.Errorf("parsed %+v", p)
	}
	for _, in := range []string{
		strings.Replace(profile, `"email": "alex.ray@example.com",`, `"email": null,`, 1),
		strings.Replace(profile, `"email": "alex.ray@example.com",`, ``, 1),
		strings.Replace(profile, `"full_name"`, `"unknown": [1, {"x": null}], "full_name"`, 1), // UserProfile is an open object
	} {
		if _, err := userprofile.Parse([]byte(in)); err != nil {
			t.Errorf("Parse(%s): %v", in, err)
		}
	}
	v, err := invoice.Parse([]byte(inv))
	if err != nil {
		t.Fatal(err)
	}
	if v.LineItems[0].TaxRate == nil || *v.LineItems[0].TaxRate != 0.19 || v.Seller.Address.Country != "DE" || v.Buyer.VatID != nil {
		t.Errorf("parsed %+v", v)
	}
}

// TestParseErrors: each bad input fails with an error at the right JSON
// pointer, saying why.
func TestParseErrors(t *testing.T) {
	up := func(old, new string) string { return strings.Replace(profile, old, new, 1) }
	iv := func(old, new string) string {
		if !strings.Contains(inv, old) {
			t.Fatalf("test bug: %q not in the invoice", old)
		}
		return strings.Replace(inv, old, new, 1)
	}
	for _, c := range []struct {
		name, in, ptr, msg string
		parse              func([]byte) error
	}{
		{"not json", `{"full_name": `, "", "invalid JSON: unexpected EOF", parseProfile},
		{"empty", ``, "", "invalid JSON: EOF", parseProfile},
		{"not an object", `[1]`, "", "want an object", parseProfile},
		{"trailing data", profile + ` {}`, "", "data after the JSON value", parseProfile},
		{"missing member", up(`"full_name": "Alex Ray",`, ``), "", `missing required member "full_name"`, parseProfile},
		{"null", up(`9`, `null`), "/years_of_experience", "null is not allowed", parseProfile},
		{"wrong type", up(`["Go", "AWS"]`, `"Go"`), "/skills", "cannot unmarshal string", parseProfile},
		{"fraction for integer", up(`9`, `9.5`), "/years_of_experience", "cannot unmarshal number 9.5", parseProfile},
		{"minimum", up(`9`, `-1`), "/years_of_experience", "less than the minimum 0", parseProfile},
		{"enum", up(`"DevOps Engineer"`, `"CEO"`), "/primary_role", "not one of the values", parseProfile},
		{"format email (automaton)", up(`alex.ray@example.com`, `alex.ray at example.com`), "/email", "not allowed by the schema", parseProfile},
		{"duplicate member", up(`"full_name": "Alex Ray",`, `"full_name": "A", "full_name": "B",`), "/full_name", "twice", parseProfile},
		{"closed object", iv(`"total": 510.57`, `"total": 510.57, "note": "x"`), "/note", "closed", parseInvoice},
		{"nested minimum", iv(`"quantity": 1,`, `"quantity": 0,`), "/line_items/1/quantity", "less than the minimum 1", parseInvoice},
		{"nested missing", iv(`{"description": "Travel", `, `{`), "/line_items/1", `missing required member "description"`, parseInvoice},
		{"nested type", iv(`"quantity": 3`, `"quantity": "3"`), "/line_items/0/quantity", "cannot unmarshal string", parseInvoice},
		{"pattern (automaton)", iv(`"country": "GB"`, `"country": "gb"`), "/buyer/address/country", "not allowed by the schema", parseInvoice},
		{"date format (automaton)", iv(`2026-11-02`, `2026-13-02`), "/issue_date", "not allowed by the schema", parseInvoice},
		{"minItems", iv(inv[strings.Index(inv, `[`):strings.LastIndex(inv, `]`)+1], `[]`), "/line_items", "fewer than the minimum 1", parseInvoice},
		{"maximum", iv(`"tax_rate": 0.19`, `"tax_rate": 1.5`), "/line_items/0/tax_rate", "greater than the maximum 1", parseInvoice},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.parse([]byte(c.in))
			var e *contract.Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v (%T), want a *contract.Error", err, err)
			}
			if e.Ptr != c.ptr || !strings.Contains(e.Msg, c.msg) {
				t.Errorf("got %q at %q, want %q at %q", e.Msg, e.Ptr, c.msg, c.ptr)
			}
		})
	}
}

func parseProfile(b []byte) error { _, err := userprofile.Parse(b); return err }
func parseInvoice(b []byte) error { _, err := invoice.Parse(b); return err }

// TestValidateBuiltInGo: values built in Go are checked the same way.
func TestValidateBuiltInGo(t *testing.T) {
	p := userprofile.UserProfile{FullName: "Jo", PrimaryRole: userprofile.PrimaryRoleDataScientist}
	err := p.Validate()
	var e *contract.Error
	if !errors.As(err, &e) || e.Ptr != "/skills" {
		t.Fatalf("nil skills: got %v, want an error at /skills", err)
	}
	p.Skills = []string{}
	if err := p.Validate(); err != nil {
		t.Fatalf("empty skills: %v", err)
	}
	text, err := p.Text()
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"full_name\": \"Jo\",\n  \"years_of_experience\": 0,\n  \"skills\": [],\n  \"primary_role\": \"Data Scientist\"\n}"
	if string(text) != want {
		t.Errorf("Text = %q, want %q", text, want)
	}
	bad := "bob@"
	p.Email = &bad
	if err := p.Validate(); !errors.As(err, &e) || e.Ptr != "/email" {
		t.Errorf("bad email: got %v, want an error at /email", err)
	}
}

func TestTableFor(t *testing.T) {
	if _, err := userprofile.TableFor(userprofile.VocabFingerprint); err != nil {
		t.Fatal(err)
	}
	_, err := userprofile.TableFor("sha256:0000")
	if err == nil || !strings.Contains(err.Error(), "sha256:0000") || !strings.Contains(err.Error(), userprofile.VocabFingerprint) {
		t.Errorf("wrong vocabulary: got %v, want an error naming both fingerprints", err)
	}
}

// TestSpecBadBlob: a corrupt or mismatched blob is an error at load, the
// same on every call, never a panic.
func TestSpecBadBlob(t *testing.T) {
	good, err := userprofile.Table()
	if err != nil {
		t.Fatal(err)
	}
	blob, err := good.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), blob...)
	flipped[len(flipped)/2] ^= 1
	for _, c := range []struct {
		name  string
		blob  []byte
		vocab string
		want  string
	}{
		{"truncated", blob[:len(blob)/3], good.Vocab, "x: embedded tables"},
		{"flipped byte", flipped, good.Vocab, "x: embedded tables"},
		{"empty", nil, good.Vocab, "x: embedded tables"},
		{"other vocabulary", blob, "sha256:1234", "regenerate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &contract.Spec{Name: "x", Blob: c.blob, Vocab: c.vocab, Layout: canon.Layout{Kind: canon.Indent2}}
			_, err1 := s.Table()
			_, err2 := s.Table()
			if err1 == nil || !strings.Contains(err1.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err1, c.want)
			}
			if err2 != err1 {
				t.Errorf("second call gave %v, first %v", err2, err1)
			}
		})
	}
}

// TestUnion: a oneOf of closed objects is a struct with one pointer per
// alternative; decoding sets the one that fits, and exactly one must be set.
func TestUnion(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // the alternative set, or the error's pointer and text
	}{
		{`{"call_id": "call_abcd1234", "tool": {"name": "get_weather", "arguments": {"city": "Oslo"}}}`, "GetWeather"},
		{`{"call_id": "call_abcd1234", "tool": {"name": "search_flights", "arguments": {"from": "OSL", "to": "LHR", "date": "2026-12-01", "passengers": 2}}}`, "SearchFlights"},
		{`{"call_id": "call_abcd1234", "tool": {"name": "send_email", "arguments": {"to": ["a@b.co"], "subject": "", "body": "hi"}}}`, "SendEmail"},
		{`{"call_id": "call_abcd1234", "tool": {"name": "get_time", "arguments": {}}}`, `/tool/arguments: fits none of the alternatives; the first: missing required member "city"`},
		{`{"call_id": "call_abcd1234", "tool": {"name": "get_weather", "arguments": {"city": "Oslo", "from": "OSL"}}}`, `/tool/arguments/from: fits none of the alternatives; the first: member not allowed`},
		{`{"call_id": "call_abcd1234", "tool": {"name": "search_flights", "arguments": {"from": "osl", "to": "LHR", "date": "2026-12-01"}}}`, `/tool/arguments/from: value not allowed by the schema`},
	} {
		v, err := functioncall.Parse([]byte(c.in))
		got := ""
		switch {
		case err != nil:
			got = err.Error()
		case v.Tool.GetWeather != nil:
			got = "GetWeather"
		case v.Tool.SearchFlights != nil:
			got = "SearchFlights"
		case v.Tool.SendEmail != nil:
			got = "SendEmail"
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s:\n got %q\nwant %q…", c.in, got, c.want)
		}
	}
	v := functioncall.FunctionCall{CallID: "call_abcd1234"}
	if err := v.Validate(); err == nil || !strings.HasPrefix(err.Error(), "/tool: 0 alternatives set") {
		t.Errorf("no alternative set: got %v", err)
	}
	v.Tool.GetWeather = &functioncall.GetWeather{Name: "get_weather", Arguments: functioncall.GetWeatherArguments{City: "Oslo"}}
	if err := v.Validate(); err != nil {
		t.Errorf("one alternative set: %v", err)
	}
	v.Tool.SendEmail = &functioncall.SendEmail{Name: "send_email"}
	if err := v.Validate(); err == nil || !strings.Contains(err.Error(), "alternatives set") {
		t.Errorf("two alternatives set: got %v", err)
	}
}
