package gentest

import (
	"bytes"
	"encoding/json"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/schemac-dev/schemac/gen/functioncall"
	"github.com/schemac-dev/schemac/gen/invoice"
	"github.com/schemac-dev/schemac/gen/supportticket"
	"github.com/schemac-dev/schemac/gen/userprofile"
	"github.com/schemac-dev/schemac/runtime/mask"
)

// pkg is what the tests need of one generated package.
type pkg struct {
	name   string
	schema string
	table  func() (*mask.Table, error)
	// parse is the package's Parse; text is Text of the parsed value.
	parse func([]byte) (text []byte, err error)
}

func textOf[T interface{ Text() ([]byte, error) }](v T, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	return v.Text()
}

var pkgs = []pkg{
	{"userprofile", userprofile.SchemaJSON, userprofile.Table,
		func(b []byte) ([]byte, error) { return textOf(userprofile.Parse(b)) }},
	{"invoice", invoice.SchemaJSON, invoice.Table,
		func(b []byte) ([]byte, error) { return textOf(invoice.Parse(b)) }},
	{"supportticket", supportticket.SchemaJSON, supportticket.Table,
		func(b []byte) ([]byte, error) { return textOf(supportticket.Parse(b)) }},
	{"functioncall", functioncall.SchemaJSON, functioncall.Table,
		func(b []byte) ([]byte, error) { return textOf(functioncall.Parse(b)) }},
}

// TestEveryPackageListed keeps pkgs in step with gen/.
func TestEveryPackageListed(t *testing.T) {
	dirs, err := filepath.Glob("../../gen/*/tables.go")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no generated packages found under gen/ (%v)", err)
	}
	listed := map[string]bool{}
	for _, p := range pkgs {
		listed[p.name] = true
	}
	for _, d := range dirs {
		if name := filepath.Base(filepath.Dir(d)); !listed[name] {
			t.Errorf("gen/%s is not tested: add it to pkgs", name)
		}
	}
}

func validator(t testing.TB, schemaText string) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(schemaText))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("mem://schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mem://schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// walker samples decodes from a table.
type walker struct {
	t       *mask.Table
	byteTok [256]int // a token spelling exactly this byte, or -1
	dist    []int    // single-byte steps from each state to acceptance (-1: none)
}

func newWalker(t *mask.Table) *walker {
	w := &walker{t: t}
	for c := range w.byteTok {
		w.byteTok[c] = -1
	}
	for id := 0; id < t.VocabSize; id++ {
		if bs := t.TokenBytes(id); len(bs) == 1 && w.byteTok[bs[0]] < 0 {
			w.byteTok[bs[0]] = id
		}
	}
	n := t.NumStates
	rev := make([][]int32, n)
	for s := 0; s < n; s++ {
		for c := 0; c < 256; c++ {
			if id := w.byteTok[c]; id >= 0 && t.Allowed(int32(s), id) {
				if nx, err := t.Next(int32(s), id); err == nil {
					rev[nx] = append(rev[nx], int32(s))
				}
			}
		}
	}
	w.dist = make([]int, n)
	var queue []int32
	for s := range w.dist {
		w.dist[s] = -1
		if t.Accepting(int32(s)) {
			w.dist[s] = 0
			queue = append(queue, int32(s))
		}
	}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		for _, s := range rev[x] {
			if w.dist[s] < 0 {
				w.dist[s] = w.dist[x] + 1
				queue = append(queue, s)
			}
		}
	}
	return w
}

// sampleUniform draws the token that the argmax of independent random
// logits would pick among the allowed ones (EOS included in accepting
// states): each with equal probability. It selects the k-th set bit of the
// state's row.
func (w *walker) sampleUniform(s int32, r *rand.Rand) int {
	row := w.t.Row(s)
	n := 0
	for _, x := range row {
		n += bits.OnesCount64(x)
	}
	eos := 0
	if w.t.Accepting(s) {
		eos = 1
	}
	if n+eos == 0 {
		return -1
	}
	k := r.IntN(n + eos)
	if k == n {
		return int(w.t.EOS)
	}
	for i, x := range row {
		c := bits.OnesCount64(x)
		if k >= c {
			k -= c
			continue
		}
		for ; k > 0; k-- {
			x &= x - 1
		}
		return i*64 + bits.TrailingZeros64(x)
	}
	return -1
}

// sampleLogits draws random logits for the whole vocabulary, masks them
// with MaskLogits and takes the argmax, as a CPU decoder would.
func (w *walker) sampleLogits(s int32, r *rand.Rand, logits []float32) int {
	for i := range logits {
		logits[i] = float32(r.NormFloat64())
	}
	w.t.MaskLogits(s, logits)
	best, bestV := -1, float32(math.Inf(-1))
	for i, v := range logits {
		if v > bestV {
			best, bestV = i, v
		}
	}
	return best
}

// walk decodes one output. Each step takes, with probability 1-steer, a
// token sampled from random logits, else a single-byte token that moves
// closer to acceptance; in accepting states a steered walk emits EOS with
// probability 1/4. After pure steps (steer 0), steer becomes 1/2 so that
// the walk ends. logits, when non-nil, makes the random step go through
// MaskLogits on a full random logit vector.
func (w *walker) walk(r *rand.Rand, logits []float32, steer float64, pure int) (out []byte, ok bool) {
	t := w.t
	s := t.Start()
	for step := 0; step < 20000; step++ {
		if step == pure && steer == 0 {
			steer = 0.5
		}
		if steer > 0 && t.Accepting(s) && r.IntN(4) == 0 {
			return out, true // EOS
		}
		id := -1
		if r.Float64() >= steer {
			if logits != nil {
				id = w.sampleLogits(s, r, logits)
			} else {
				id = w.sampleUniform(s, r)
			}
			if id == int(t.EOS) {
				return out, true
			}
		} else {
			for c := 0; c < 256 && id < 0; c++ {
				if b := w.byteTok[c]; b >= 0 && t.Allowed(s, b) {
					if nx, err := t.Next(s, b); err == nil && w.dist[nx] >= 0 && w.dist[nx] < w.dist[s] {
						id = b
					}
				}
			}
			if id < 0 {
				if t.Accepting(s) {
					return out, true
				}
				id = w.sampleUniform(s, r)
			}
		}
		if id == int(t.EOS) {
			return out, true
		}
		if id < 0 {
			return out, false
		}
		nx, err := t.Next(s, id)
		if err != nil {
			return out, false
		}
		out = append(out, t.TokenBytes(id)...)
		s = nx
	}
	return out, false
}

// TestWalks: 10 000 random decodes per package (1 000 with -short). One
// in ten samples its first 1 000 tokens from random logits alone (long
// strings, long numbers: whatever the tables allow), then is steered to an
// end; the others are steered from the start. 100 of them go through
// MaskLogits with full random logit vectors. Every
// output must Parse, validate with the reference validator, and lay out
// (Text of the parsed value) to text the tables accept.
func TestWalks(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	for _, p := range pkgs {
		t.Run(p.name, func(t *testing.T) {
			tbl, err := p.table()
			if err != nil {
				t.Fatal(err)
			}
			v := validator(t, p.schema)
			w := newWalker(tbl)
			r := rand.New(rand.NewPCG(7, uint64(len(p.name))))
			logits := make([]float32, tbl.VocabSize)
			fails := 0
			for i := 0; i < n && fails < 5; i++ {
				var lg []float32
				if i < 100 {
					lg = logits
				}
				steer := 0.5
				if i%10 == 0 {
					steer = 0
				}
				out, ok := w.walk(r, lg, steer, 1000)
				if !ok {
					t.Errorf("walk %d did not end: %q", i, clip(out))
					fails++
					continue
				}
				text, err := p.parse(out)
				if err != nil {
					t.Errorf("walk %d: Parse: %v\n%s", i, err, clip(out))
					fails++
					continue
				}
				inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
				if err == nil {
					err = v.Validate(inst)
				}
				if err != nil {
					t.Errorf("walk %d: the reference validator rejects the output: %v\n%s", i, err, clip(out))
					fails++
					continue
				}
				if ok, at := tbl.Match(text); !ok {
					t.Errorf("walk %d: Text of the parsed value leaves the tables at byte %d\n%s", i, at, clip(text))
					fails++
				}
			}
		})
	}
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// TestSharedInstance: the reference article's instance parses and lays out
// byte for byte as the committed file (Python's json.dumps(indent=2)).
func TestSharedInstance(t *testing.T) {
	want, err := os.ReadFile("../../testdata/user_profile.instance.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := userprofile.Parse(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Text()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
		t.Errorf("Text differs from the instance file:\n got %s\nwant %s", got, want)
	}
	var m map[string]any
	if err := json.Unmarshal(want, &m); err != nil {
		t.Fatal(err)
	}
	if p.FullName != m["full_name"] || float64(p.YearsOfExperience) != m["years_of_experience"] || string(p.PrimaryRole) != m["primary_role"] {
		t.Errorf("parsed fields differ from the file: %+v", p)
	}
}
