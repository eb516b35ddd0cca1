package train

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
)

// TestLossPNG draws a short run and reads the image back: the training
// curve passes through its first and last points, the evaluation dots
// are red, and the tick labels, axis names and legend put text pixels in
// the margins, where nothing else is drawn.
func TestLossPNG(t *testing.T) {
	ev := func(v float64) *float64 { return &v }
	log := &RunLog{}
	for s := 1; s <= 40; s++ {
		e := LogEntry{Step: s, Loss: 10 - 0.2*float64(s)}
		if s%10 == 0 {
			e.EvalLoss = ev(9 - 0.15*float64(s))
		}
		log.Steps = append(log.Steps, e)
	}
	b, err := LossPNG(log)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds(); got != image.Rect(0, 0, plotW, plotH) {
		t.Fatalf("image %v, want %dx%d", got, plotW, plotH)
	}
	is := func(x, y int, want color.RGBA) bool {
		r, g, b, a := img.At(x, y).RGBA()
		return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)} == want
	}
	blue, red, axis := color.RGBA{30, 90, 200, 255}, color.RGBA{210, 40, 40, 255}, color.RGBA{60, 60, 60, 255}
	px := func(step float64) int { return plotMargin + int(step/40*float64(plotW-2*plotMargin)) }
	py := func(loss float64) int { return plotH - plotMargin - int(loss/9.8*float64(plotH-2*plotMargin)) }
	if !is(px(1), py(9.8), blue) || !is(px(40), py(2), blue) {
		t.Error("the training curve misses its first or last point")
	}
	if !is(px(20), py(6), red) {
		t.Error("no red evaluation dot at step 20")
	}
	count := func(r image.Rectangle, c color.RGBA) int {
		n := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if is(x, y, c) {
					n++
				}
			}
		}
		return n
	}
	if n := count(image.Rect(0, plotMargin-4, plotMargin-4, plotH-plotMargin+6), axis); n < 100 {
		t.Errorf("loss tick labels: %d text pixels left of the axis", n)
	}
	if n := count(image.Rect(plotMargin, plotH-plotMargin+4, plotW, plotH), axis); n < 100 {
		t.Errorf("step tick labels and axis name: %d text pixels under the axis", n)
	}
	if n := count(image.Rect(plotW-plotMargin-84, 0, plotW, plotMargin), red); n < 30 {
		t.Errorf("legend: %d red text pixels", n)
	}
}
