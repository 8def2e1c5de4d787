package bench

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// CheckOutputPath fails, before anything is measured, if the directory of
// path, a file to write, does not exist.
func CheckOutputPath(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err == nil && !st.IsDir() {
		err = &os.PathError{Op: "stat", Path: dir, Err: fmt.Errorf("not a directory")}
	}
	if err != nil {
		return fmt.Errorf("bench: %s: %w", path, err)
	}
	return nil
}

// peerColors are the colors of the peers in the per-size panels.
var peerColors = map[Peer]color.Color{
	PeerGo:     color.RGBA{0, 114, 178, 255},
	PeerC:      color.RGBA{213, 94, 0, 255},
	PeerPython: color.RGBA{0, 158, 115, 255},
}

// WriteChart draws the results into path, a PNG or SVG by its extension:
// on top, p50 against message size per mechanism (Go peer, log-log); below
// it, one panel per size with every mechanism's p50 (circle) and p99
// (triangle) for each peer, for the sizes that three mechanisms or more
// share, and for the doorbells. Where results hold several modes or placements,
// it draws latency before throughput and cross before same core.
func WriteChart(path string, results []Result) error {
	mode, placement := chartSelection(results)
	var rows []Result
	for _, r := range results {
		if r.Mode == mode && r.Placement == string(placement) && r.Messages > 0 {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return fmt.Errorf("no measured results to draw")
	}
	what := fmt.Sprintf("%s, %s-core placement", mode, placement)
	unit := "round trip"
	if mode == Throughput {
		unit = "time per message"
	}

	panels := []*plot.Plot{}
	if p, err := sizePlot(rows, what, unit); err != nil {
		return err
	} else if p != nil {
		panels = append(panels, p)
	}
	// A panel per size that at least three mechanisms share, and the
	// doorbells': a size only a few reach (their limit) shows on top.
	mechsAt := map[int][]string{}
	for _, r := range rows {
		if !slices.Contains(mechsAt[r.Size], r.Mechanism) {
			mechsAt[r.Size] = append(mechsAt[r.Size], r.Mechanism)
		}
	}
	var sizes []int
	for size, mechs := range mechsAt {
		if size == 0 || len(mechs) >= 3 || len(mechsAt) == 1 {
			sizes = append(sizes, size)
		}
	}
	slices.Sort(sizes)
	for _, size := range sizes {
		p, err := percentilePlot(rows, size, what, unit)
		if err != nil {
			return err
		}
		panels = append(panels, p)
	}

	const width, height = 11 * vg.Inch, 3.6 * vg.Inch
	canvas, err := draw.NewFormattedCanvas(width, height*vg.Length(len(panels)), strings.TrimPrefix(filepath.Ext(path), "."))
	if err != nil {
		return err
	}
	dc := draw.New(canvas)
	for i, p := range panels {
		top := -height * vg.Length(i)
		bottom := height * vg.Length(len(panels)-1-i)
		p.Draw(draw.Crop(dc, 0, 0, bottom, top))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := canvas.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func chartSelection(results []Result) (Mode, Placement) {
	has := func(m Mode, pl Placement) bool {
		return slices.ContainsFunc(results, func(r Result) bool {
			return r.Mode == m && r.Placement == string(pl) && r.Messages > 0
		})
	}
	for _, m := range []Mode{Latency, Throughput} {
		for _, pl := range []Placement{CrossCore, SameCore} {
			if has(m, pl) {
				return m, pl
			}
		}
	}
	return Latency, CrossCore
}

// sizePlot is p50 against size, one line per mechanism with a payload, for
// the Go peer; nil if no mechanism has one.
func sizePlot(rows []Result, what, unit string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("p50 %s against message size, Go peer (%s)", unit, what)
	p.X.Label.Text, p.Y.Label.Text = "message size (bytes)", unit+" p50 (ns)"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	p.Legend.Top, p.Legend.Left = true, true
	var mechs []string
	for _, r := range rows {
		if r.Size > 0 && r.Peer == PeerGo && !slices.Contains(mechs, r.Mechanism) {
			mechs = append(mechs, r.Mechanism)
		}
	}
	if len(mechs) == 0 {
		return nil, nil
	}
	top := 1.0
	for i, m := range mechs {
		var xys plotter.XYs
		for _, r := range rows {
			if r.Mechanism == m && r.Peer == PeerGo {
				xys = append(xys, plotter.XY{X: float64(r.Size), Y: float64(max(r.P50, 1))})
				top = max(top, float64(r.P50))
			}
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		line.Color, points.Color = plotutil.Color(i), plotutil.Color(i)
		line.Dashes = plotutil.Dashes(i / 7)
		points.Shape = plotutil.Shape(i)
		p.Add(line, points)
		p.Legend.Add(m, line, points)
	}
	p.Y.Max = top * 100 // room for the legend above the lines
	return p, nil
}

// percentilePlot shows, at one size, each mechanism's p50 and p99 per peer.
func percentilePlot(rows []Result, size int, what, unit string) (*plot.Plot, error) {
	p := plot.New()
	title := fmt.Sprintf("p50 (circle) and p99 (triangle) %s at %s (%s)", unit, sizeText(size)+plural(size), what)
	if size == 0 {
		title = fmt.Sprintf("p50 (circle) and p99 (triangle) %s of the doorbells (%s)", unit, what)
	}
	p.Title.Text = title
	p.Y.Label.Text = unit + " (ns)"
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	var mechs []string
	for _, r := range rows {
		if r.Size == size && !slices.Contains(mechs, r.Mechanism) {
			mechs = append(mechs, r.Mechanism)
		}
	}
	p.NominalX(mechs...)
	for k, peer := range []Peer{PeerGo, PeerC, PeerPython} {
		var p50, p99 plotter.XYs
		for _, r := range rows {
			if r.Size == size && r.Peer == peer {
				x := float64(slices.Index(mechs, r.Mechanism)) + 0.2*float64(k-1)
				p50 = append(p50, plotter.XY{X: x, Y: float64(max(r.P50, 1))})
				p99 = append(p99, plotter.XY{X: x, Y: float64(max(r.P99, 1))})
			}
		}
		if len(p50) == 0 {
			continue
		}
		for _, set := range []struct {
			xys   plotter.XYs
			glyph draw.GlyphDrawer
		}{{p50, draw.CircleGlyph{}}, {p99, draw.TriangleGlyph{}}} {
			s, err := plotter.NewScatter(set.xys)
			if err != nil {
				return nil, err
			}
			s.Color, s.Shape, s.Radius = peerColors[peer], set.glyph, vg.Points(3)
			p.Add(s)
			if set.glyph == (draw.CircleGlyph{}) {
				p.Legend.Add(string(peer)+" peer", s)
			}
		}
	}
	p.Add(plotter.NewGrid())
	return p, nil
}

// plural is " bytes" after a plain number, nothing after 4KiB.
func plural(size int) string {
	if sizeText(size) == fmt.Sprint(size) {
		return " bytes"
	}
	return ""
}
