package train

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Plot sizes of the loss curve.
const (
	plotW, plotH = 800, 480
	plotMargin   = 56
)

// LossPNG draws the loss curve of a log as a PNG: training loss per step
// (blue line), evaluation loss (red dots joined by a thin red line), on a
// light grid with a line every 10% of the step range and every 0.1, 0.2,
// 0.5, 1, 2, 5, … of loss (the finest with at most 12 lines), the y axis
// from 0 to the largest loss. Tick values, the axis names and a legend are
// written in the 7×13 bitmap face of golang.org/x/image; the exact numbers
// are in log.json.
func LossPNG(log *RunLog) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, plotW, plotH))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	maxLoss, maxStep := 0.0, 1
	for _, e := range log.Steps {
		maxLoss = math.Max(maxLoss, e.Loss)
		if e.EvalLoss != nil {
			maxLoss = math.Max(maxLoss, *e.EvalLoss)
		}
		maxStep = max(maxStep, e.Step)
	}
	if maxLoss <= 0 || math.IsNaN(maxLoss) || math.IsInf(maxLoss, 0) {
		maxLoss = 1
	}
	x := func(step float64) int {
		return plotMargin + int(step/float64(maxStep)*float64(plotW-2*plotMargin))
	}
	y := func(loss float64) int {
		return plotH - plotMargin - int(loss/maxLoss*float64(plotH-2*plotMargin))
	}
	grid := color.RGBA{225, 225, 225, 255}
	axis := color.RGBA{60, 60, 60, 255}
	for i := 0; i <= 10; i++ {
		s := float64(maxStep) * float64(i) / 10
		line(img, x(s), y(0), x(s), y(maxLoss), grid)
		if i%2 == 0 {
			label := strconv.FormatFloat(s, 'f', -1, 64)
			if maxStep >= 10 {
				label = strconv.Itoa(int(math.Round(s)))
			}
			text(img, x(s)-textWidth(label)/2, y(0)+16, label, axis)
		}
	}
	step := 0.1 // 0.1, 0.2, 0.5, 1, 2, 5, 10, …: at most 12 lines
	for mult := 0; maxLoss/step > 12; mult++ {
		step *= []float64{2, 2.5, 2}[mult%3]
	}
	for i := 0; float64(i)*step <= maxLoss; i++ {
		l := float64(i) * step
		line(img, x(0), y(l), x(float64(maxStep)), y(l), grid)
		label := strconv.FormatFloat(l, 'f', -1, 64)
		if step < 1 {
			label = strconv.FormatFloat(l, 'f', 1, 64)
		}
		text(img, x(0)-6-textWidth(label), y(l)+4, label, axis)
	}
	line(img, x(0), y(0), x(float64(maxStep)), y(0), axis)
	line(img, x(0), y(0), x(0), y(maxLoss), axis)
	text(img, x(float64(maxStep))-textWidth("optimizer step"), plotH-8, "optimizer step", axis)
	text(img, 6, plotMargin-20, "loss", axis)
	blue := color.RGBA{30, 90, 200, 255}
	red := color.RGBA{210, 40, 40, 255}
	// legend, top right
	lx := plotW - plotMargin - 110
	line(img, lx, plotMargin-24, lx+20, plotMargin-24, blue)
	line(img, lx, plotMargin-23, lx+20, plotMargin-23, blue)
	text(img, lx+26, plotMargin-20, "training", blue)
	line(img, lx, plotMargin-8, lx+20, plotMargin-8, red)
	text(img, lx+26, plotMargin-4, "evaluation", red)
	var px, py, ex, ey = -1, -1, -1, -1
	for _, e := range log.Steps {
		cx, cy := x(float64(e.Step)), y(e.Loss)
		if px >= 0 {
			line(img, px, py, cx, cy, blue)
			line(img, px, py+1, cx, cy+1, blue)
		}
		px, py = cx, cy
		if e.EvalLoss != nil {
			vx, vy := x(float64(e.Step)), y(*e.EvalLoss)
			if ex >= 0 {
				line(img, ex, ey, vx, vy, red)
			}
			for dx := -3; dx <= 3; dx++ {
				for dy := -3; dy <= 3; dy++ {
					if dx*dx+dy*dy <= 9 {
						img.Set(vx+dx, vy+dy, red)
					}
				}
			}
			ex, ey = vx, vy
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// text writes s with its baseline at y, starting at x.
func text(img *image.RGBA, x, y int, s string, c color.RGBA) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// textWidth is the width of s in pixels in the plot's face.
func textWidth(s string) int {
	return font.MeasureString(basicfont.Face7x13, s).Round()
}

// line draws a segment (Bresenham).
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	e := dx + dy
	for {
		img.SetRGBA(x0, y0, c)
		if x0 == x1 && y0 == y1 {
			return
		}
		if 2*e >= dy {
			e += dy
			x0 += sx
		}
		if 2*e <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
