package model

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// MaxPrograms bounds the step programs one Model compiles: token counts
// and attended lengths are rounded up to powers of two, so a context of
// 2^k positions needs at most about (k+1)² programs (far fewer in
// practice: see stepShape).
const MaxPrograms = 256

// minChunk is the smallest padded count of a multi-token step: the
// forced chunks of jump-forward (usually 2–10 tokens) share one program
// instead of one per power of two. A 7B NF4 step program takes minutes to
// compile; a few padded rows cost next to nothing, since a step's time is
// reading the weights once whatever the row count.
const minChunk = 16

// stepShape is the padded token count of a step feeding count tokens and
// the number of cache positions it attends to. Both are powers of two
// (unless the cache is full), and the attended length is at least a
// quarter of the cache, so one cache size needs at most three lengths.
func (c *Cache) stepShape(count int) (n, keyLen int) {
	n = count
	if count > 1 {
		n = max(bucket(count), minChunk)
	}
	if c.Len+n > c.MaxLen {
		n = count // the padded bucket would not fit: exact size
	}
	keyLen = min(max(bucket(c.Len+n), bucket(c.MaxLen/4)), c.MaxLen)
	return n, keyLen
}

// Cache is the KV cache of one sequence: one tensor [layers, 2, KV heads,
// MaxLen, head dim] (keys, then values) that stays on the device: each step
// takes it (donated) and returns the updated one.
type Cache struct {
	MaxLen int // positions it holds
	Len    int // positions filled
	kv     *tensors.Tensor
	rng    *tensors.Tensor // sampling state, on the device
	model  *Model

	hostRNG    *rand.Rand // sampling state of a Stepper's cache (stepper.go)
	hostLogits []float32  // its logits, when only the sampler reads them
}

// Sampling chooses the next token. Temperature 0 is greedy (argmax); else
// logits are divided by Temperature and the token is drawn from the
// smallest set of most likely tokens whose probability reaches TopP (1:
// all), with a generator seeded by Seed.
type Sampling struct {
	Temperature float64
	TopP        float64
	Seed        uint64
}

// NewCache allocates a zeroed cache of maxLen positions on the device, in
// the weights' dtype.
func (m *Model) NewCache(maxLen int) (*Cache, error) {
	cfg := m.Config
	if maxLen <= 0 || maxLen > cfg.MaxPositionEmbeddings {
		return nil, fmt.Errorf("cache length %d: must be in 1..%d (max_position_embeddings)", maxLen, cfg.MaxPositionEmbeddings)
	}
	if m.Stepper != nil {
		if maxLen > m.Stepper.CacheLen() {
			return nil, fmt.Errorf("cache length %d: the step engine holds %d positions", maxLen, m.Stepper.CacheLen())
		}
		return &Cache{MaxLen: maxLen, model: m}, nil
	}
	shape := shapes.Make(m.Weights.DType, cfg.NumLayers, 2, cfg.NumKVHeads, maxLen, cfg.HeadDim)
	exec, err := NewExec(m.Backend, func(g *Graph) *Node { return Zeros(g, shape) })
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	kv, err := exec.Exec1()
	if err != nil {
		return nil, fmt.Errorf("allocating the KV cache: %w", err)
	}
	return &Cache{MaxLen: maxLen, kv: kv, model: m}, nil
}

// Finalize frees the cache's device memory.
func (c *Cache) Finalize() {
	if c.kv != nil {
		c.kv.FinalizeAll()
		c.kv = nil
	}
	if c.rng != nil {
		c.rng.FinalizeAll()
		c.rng = nil
	}
}

// bucket rounds n up to a power of two.
func bucket(n int) int {
	if n <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(n-1))
}

// stepGraph is the program of one step: it feeds n tokens at positions
// pos.. (n static, pos dynamic), writes their keys and values into the
// cache, attends over the first len(kpos) cache positions, and returns the
// sampled next token [1], the logits after the token at index last, and
// the updated cache.
//
// Inputs: weights…, the cache, tokens [n] int32, pos int32,
// last int32, kpos [L] int32 (0..L-1), temperature, topP (float32), the
// random state, the mask rows [R, ⌈V/8⌉] uint8, the row (int32, -1: no
// constraint), whether EOS is allowed (bool). Outputs: next token [1], logits
// [V] (masked), random state, the cache.
//
// A greedy program (sampling false) takes the same inputs but only
// computes the argmax: no softmax, bisection or random draw per step.
func (m *Model) stepGraph(inputs []*Node, sampling bool) []*Node {
	cfg := m.Config
	nw := len(m.Weights.Tensors)
	w := bindWeights(m.Weights, inputs[:nw])
	cache := inputs[nw]
	rest := inputs[nw+1:]
	tokens, pos, last, kpos, temperature, topP, rngState := rest[0], rest[1], rest[2], rest[3], rest[4], rest[5], rest[6]
	maskRows, maskRow, eosOK := rest[7], rest[8], rest[9]
	g := tokens.Graph()
	n := tokens.Shape().Dimensions[0]
	keyLen := kpos.Shape().Dimensions[0]
	positions := Add(Iota(g, shapes.Make(dtypes.Int32, n), 0), pos)
	useDUS := m.Backend.Capabilities().Operations[backends.OpTypeDynamicUpdateSlice]
	dims := cache.Shape().Dimensions // [L, 2, KV, S, hd]
	layerOf := func(c *Node, layer int) *Node { return Reshape(Slice(c, AxisElem(layer)), dims[1:]...) }
	var layers []*Node // without DynamicUpdateSlice: the updated layers, stacked at the end
	kv := func(layer int, k, v *Node) (*Node, *Node, *Node) {
		k, v = ConvertDType(k, cache.DType()), ConvertDType(v, cache.DType())
		x := Stack([]*Node{k, v}, 0) // [2, KV, n, hd]
		var c *Node                  // this layer's [2, KV, S, hd]
		if useDUS {
			// One in-place update of the whole cache per layer; the layer's
			// keys and values are read from the updated cache.
			zero := ScalarZero(g, dtypes.Int32)
			cache = DynamicUpdateSlice(cache, InsertAxes(x, 0), []*Node{Scalar(g, dtypes.Int32, layer), zero, zero, pos, zero})
			c = layerOf(cache, layer)
		} else {
			c = layerOf(cache, layer)
			c = Stack([]*Node{writeRows(Squeeze(Slice(c, AxisElem(0)), 0), k, pos),
				writeRows(Squeeze(Slice(c, AxisElem(1)), 0), v, pos)}, 0)
			layers = append(layers, c)
		}
		keys, values := Reshape(Slice(c, AxisElem(0)), dims[2:]...), Reshape(Slice(c, AxisElem(1)), dims[2:]...)
		if keyLen < keys.Shape().Dimensions[1] {
			keys = Slice(keys, AxisRange(), AxisRange(0, keyLen), AxisRange())
			values = Slice(values, AxisRange(), AxisRange(0, keyLen), AxisRange())
		}
		return keys, values, kpos
	}
	hidden := decoder(w, tokens, positions, kv)
	row := Gather(hidden, Reshape(last, 1)) // [D]
	logits := Reshape(head(w, Reshape(row, 1, cfg.HiddenSize)), cfg.VocabSize)
	logits = maskLogits(logits, maskRows, maskRow, eosOK, m.eos)
	next, newState := ArgMax(logits, 0, dtypes.Int32), rngState
	if sampling {
		next, newState = sample(logits, temperature, topP, rngState)
	}
	if !useDUS {
		cache = Stack(layers, 0)
	}
	return []*Node{Reshape(next, 1), logits, newState, cache}
}

// writeRows writes x [KV, n, hd] into c [KV, S, hd] at positions pos..pos+n-1
// with a select, for backends without DynamicUpdateSlice.
func writeRows(c, x, pos *Node) *Node {
	g := c.Graph()
	kvh, s, hd := c.Shape().Dimensions[0], c.Shape().Dimensions[1], c.Shape().Dimensions[2]
	n := x.Shape().Dimensions[1]
	idx := Sub(Iota(g, shapes.Make(dtypes.Int32, s), 0), pos) // [S]: row of x for each position
	in := And(GreaterOrEqual(idx, ScalarZero(g, dtypes.Int32)), LessThan(idx, Scalar(g, dtypes.Int32, n)))
	idx = Clamp(ScalarZero(g, dtypes.Int32), idx, Scalar(g, dtypes.Int32, n-1))
	rows := Gather(TransposeAllAxes(x, 1, 0, 2), InsertAxes(idx, -1)) // [S, KV, hd]
	rows = TransposeAllAxes(rows, 1, 0, 2)                            // [KV, S, hd]
	mask := BroadcastToDims(Reshape(in, 1, s, 1), kvh, s, hd)
	return Where(mask, rows, c)
}

// topPIterations is the number of bisection steps that find the top-p
// threshold: 2^-30 of the largest probability is far below float32
// resolution of the sums.
const topPIterations = 30

// sample picks the next token from logits [V]: argmax when temperature ≤
// 0, else a draw from the top-p nucleus of softmax(logits/temperature).
// The nucleus is {i: p_i ≥ t} for the largest t whose nucleus holds at
// least topP of the mass, found by bisection (no sort on the device); the
// draw is the Gumbel-max trick (argmax of logits/T + Gumbel noise over the
// nucleus), which needs no cumulative sum. It returns the token and the
// advanced random state.
func sample(logits, temperature, topP, rngState *Node) (token, newState *Node) {
	g := logits.Graph()
	greedy := ArgMax(logits, 0, dtypes.Int32)
	t := Max(temperature, Scalar(g, dtypes.Float32, 1e-6))
	scaled := Div(logits, t)
	p := Softmax(scaled, 0)
	lo, hi := ScalarZero(g, dtypes.Float32), ReduceAllMax(p)
	for range topPIterations {
		mid := MulScalar(Add(lo, hi), 0.5)
		mass := ReduceAllSum(Where(GreaterOrEqual(p, mid), p, ZerosLike(p)))
		ok := GreaterOrEqual(mass, topP)
		lo = Where(ok, mid, lo)
		hi = Where(ok, hi, mid)
	}
	newState, u := RandomUniform(rngState, logits.Shape())
	u = Clamp(Scalar(g, dtypes.Float32, 1e-12), u, Scalar(g, dtypes.Float32, 1-1e-7))
	gumbel := Neg(Log(Neg(Log(u))))
	keyed := Where(GreaterOrEqual(p, lo), Add(scaled, gumbel), Infinity(g, dtypes.Float32, -1))
	drawn := ArgMax(keyed, 0, dtypes.Int32)
	return Where(GreaterThan(temperature, ScalarZero(g, dtypes.Float32)), drawn, greedy), newState
}

// Step feeds tokens at the cache's next positions and returns the next
// token chosen by s and the logits after the last token (a host copy only
// when wantLogits). The token count is bucketed (padding is written past
// the filled part of the cache and overwritten later; it is never
// attended to), as is the attended length.
//
// The random state of sampling lives on the device with the cache; it is
// seeded from s.Seed at the first step.
func (c *Cache) Step(tokens []int32, s Sampling, wantLogits bool) (int32, []float32, error) {
	return c.StepMasked(tokens, s, -1, true, wantLogits)
}

// StepMasked is Step with the next token limited to the mask row of index
// row of the model's table (see SetMask) and EOS allowed only when eosOK;
// row -1 is no constraint. The returned logits are the masked ones.
func (c *Cache) StepMasked(tokens []int32, s Sampling, row int32, eosOK, wantLogits bool) (int32, []float32, error) {
	if err := c.model.checkTokens(tokens); err != nil {
		return 0, nil, err
	}
	if c.model.Stepper != nil {
		return c.stepperStep(tokens, s, row, eosOK, wantLogits)
	}
	next, logitsT, err := c.launch(tokens, len(tokens), s, row, eosOK)
	if err != nil {
		return 0, nil, err
	}
	var logits []float32
	if wantLogits {
		logits, err = tensors.CopyFlatData[float32](logitsT)
	}
	logitsT.FinalizeAll()
	tok, err2 := readToken(next)
	return tok, logits, errors.Join(err, err2)
}

// readToken copies a token [1] to the host (waiting for the step that
// computes it) and frees it.
func readToken(t *tensors.Tensor) (int32, error) {
	v, err := tensors.CopyFlatData[int32](t)
	t.FinalizeAll()
	if err != nil {
		return 0, err
	}
	return v[0], nil
}

// launch enqueues one step on the device and returns without waiting for
// it: the next token [1] and the masked logits [V] as device tensors (the
// caller frees both). tokens is a host []int32 of count ≥ 1 tokens (checked
// by the caller), or one token [1] already on the device (count 1), such
// as the token of the step before: feeding it back unread lets the host
// prepare step k+1 while the device still computes step k.
func (c *Cache) launch(tokens any, count int, s Sampling, row int32, eosOK bool) (next, logits *tensors.Tensor, err error) {
	m := c.model
	if row >= int32(m.maskRowCount) {
		return nil, nil, fmt.Errorf("mask row %d out of range (%d rows)", row, m.maskRowCount)
	}
	if err := m.ensureMask(); err != nil {
		return nil, nil, err
	}
	if c.kv == nil {
		return nil, nil, fmt.Errorf("cache is finalized")
	}
	if c.Len+count > c.MaxLen {
		return nil, nil, fmt.Errorf("cache full: %d positions filled + %d tokens > %d", c.Len, count, c.MaxLen)
	}
	n, keyLen := c.stepShape(count)
	if host, ok := tokens.([]int32); ok {
		padded := make([]int32, n)
		copy(padded, host)
		tokens = padded
	}
	sampling := s.Temperature > 0
	if m.step[sampling] == nil {
		exec, err := NewExec(m.Backend, func(inputs []*Node) []*Node { return m.stepGraph(inputs, sampling) })
		if err != nil {
			return nil, nil, err
		}
		m.step[sampling] = exec.WithName(fmt.Sprintf("decode_step_sampling_%v", sampling)).SetMaxCache(MaxPrograms)
	}
	kpos, ok := m.kpos[keyLen]
	if !ok {
		v := make([]int32, keyLen)
		for i := range v {
			v[i] = int32(i)
		}
		kpos = tensors.FromValue(v)
		if err := kpos.MaterializeOnDevice(m.Backend, false, 0); err != nil {
			return nil, nil, err
		}
		m.kpos[keyLen] = kpos
	}
	if c.rng == nil {
		st, err := RNGStateFromSeed(int64(s.Seed))
		if err != nil {
			return nil, nil, err
		}
		c.rng = st
	}
	topP := s.TopP
	if topP <= 0 || topP > 1 {
		topP = 1
	}
	args := make([]any, 0, len(m.Weights.Tensors)+11)
	for _, t := range m.Weights.Tensors {
		args = append(args, t)
	}
	d, err := DonateTensorBuffer(c.kv, m.Backend, 0)
	if err != nil {
		return nil, nil, err
	}
	args = append(args, d)
	c.kv = nil // donated: the output replaces it
	rngArg, err := DonateTensorBuffer(c.rng, m.Backend, 0)
	if err != nil {
		return nil, nil, err
	}
	c.rng = nil
	args = append(args, tokens, int32(c.Len), int32(count-1), kpos,
		float32(s.Temperature), float32(math.Min(topP, 1)), rngArg, m.maskRows, row, eosOK)
	done := m.noticeCompile(stepKey{n, keyLen, sampling})
	outs, err := m.step[sampling].Exec(args...)
	done()
	if err != nil {
		return nil, nil, fmt.Errorf("decode step: %w", err)
	}
	c.rng = outs[2]
	c.kv = outs[3]
	c.Len += count
	return outs[0], outs[1], nil
}

// Generate feeds the prompt and then samples up to maxNew tokens, stopping
// after EOS (included). maxLen is the cache length (0: the bucket of
// len(prompt)+maxNew).
func (m *Model) Generate(prompt []int32, maxNew int, s Sampling, maxLen int) ([]int32, error) {
	out, _, err := m.GenerateStats(prompt, maxNew, s, maxLen, false)
	return out, err
}

// GenerateStats is Generate with timings; with ignoreEOS it always
// produces maxNew tokens (benchmarks).
func (m *Model) GenerateStats(prompt []int32, maxNew int, s Sampling, maxLen int, ignoreEOS bool) ([]int32, DecodeStats, error) {
	st := DecodeStats{PromptTokens: len(prompt)}
	if maxLen <= 0 {
		maxLen = bucket(len(prompt) + maxNew)
	}
	c, err := m.NewCache(min(maxLen, m.Config.MaxPositionEmbeddings))
	if err != nil {
		return nil, st, err
	}
	defer c.Finalize()
	start := time.Now()
	next, _, err := c.Step(prompt, s, false)
	if err != nil {
		return nil, st, err
	}
	st.Prefill = time.Since(start)
	start = time.Now()
	var out []int32
	done := func(t int32) bool { return (!ignoreEOS && int(t) == m.Config.EOSTokenID) || len(out) == maxNew }
	if m.Stepper != nil { // one graph launch per token: nothing to pipeline
		out = []int32{next}
		for !done(out[len(out)-1]) {
			t, _, err := c.Step(out[len(out)-1:], s, false)
			if err != nil {
				return out, st, err
			}
			st.Steps++
			out = append(out, t)
		}
		st.Finished = out[len(out)-1] == int32(m.Config.EOSTokenID)
		st.Decode = time.Since(start)
		st.Tokens = len(out)
		return out, st, nil
	}
	// Pipelined: each step is fed the previous step's token on the device
	// and enqueued before that token is read, so the host's work for step
	// k+1 overlaps the device's work on step k. The price is at most one
	// step past EOS, computed and dropped.
	out = []int32{next}
	var pending *tensors.Tensor // the token of the step in flight, unread
	defer func() {
		if pending != nil {
			pending.FinalizeAll()
		}
	}()
	launch := func(tokens any) error {
		tok, logits, err := c.launch(tokens, 1, s, -1, true)
		if err != nil {
			return err
		}
		logits.FinalizeAll()
		pending = tok
		st.Steps++
		return nil
	}
	if !done(next) {
		if err := launch([]int32{next}); err != nil {
			return out, st, err
		}
	}
	for pending != nil {
		cur := pending
		pending = nil
		if len(out)+1 < maxNew {
			// enqueue the step after cur before reading cur
			if err := launch(cur); err != nil {
				cur.FinalizeAll()
				return out, st, err
			}
		}
		t, err := readToken(cur)
		if err != nil {
			return out, st, err
		}
		out = append(out, t)
		if done(t) {
			break
		}
	}
	if pending != nil {
		st.Steps-- // the step past the end, dropped
	}
	st.Finished = out[len(out)-1] == int32(m.Config.EOSTokenID)
	st.Decode = time.Since(start)
	st.Tokens = len(out)
	return out, st, nil
}

// CacheBytes is the device memory of a KV cache of maxLen positions.
func (m *Model) CacheBytes(maxLen int) int64 {
	c := m.Config
	return int64(2*c.NumLayers*c.NumKVHeads*maxLen*c.HeadDim) * int64(m.Weights.DType.Size())
}

// noticeCompile is called before the first run of a step shape (which
// compiles its program) and returns the function to call after it: when
// the run takes longer than CompileNotice, Model.Progress gets a line then
// and one at the end. Later runs of the shape cost nothing here.
func (m *Model) noticeCompile(k stepKey) (done func()) {
	if m.Progress == nil || m.compiled[k] {
		return func() {}
	}
	if m.compiled == nil {
		m.compiled = map[stepKey]bool{}
	}
	m.compiled[k] = true
	start := time.Now()
	var mu sync.Mutex
	noticed, finished := false, false
	notice := func() {
		mu.Lock()
		defer mu.Unlock()
		if !finished {
			noticed = true
			fmt.Fprintf(m.Progress, "compiling the step program for %d tokens over %d positions (once per shape)…\n", k.n, k.keyLen)
		}
	}
	stop := func() bool { return true }
	if CompileNotice <= 0 {
		notice() // zero: always, before the run
	} else {
		stop = time.AfterFunc(CompileNotice, notice).Stop
	}
	return func() {
		stop()
		mu.Lock()
		defer mu.Unlock()
		finished = true
		if noticed {
			fmt.Fprintf(m.Progress, "step program for %d tokens over %d positions compiled in %v\n", k.n, k.keyLen, time.Since(start).Round(100*time.Millisecond))
		}
	}
}
