package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// ChromiumEnv names the environment variable that points at the browser
// binary when it is not on the PATH under a usual name.
const ChromiumEnv = "GLASSBOX_CHROMIUM"

// ErrNoChromium is returned by Start when no browser is found.
var ErrNoChromium = errors.New("browsertest: no Chromium found: install Debian's chromium (apt-get install -y chromium) or set " + ChromiumEnv)

// Find returns the path of the Chromium binary: $GLASSBOX_CHROMIUM, or the
// first of chromium, chromium-browser, google-chrome on the PATH.
func Find() (string, error) {
	if p := os.Getenv(ChromiumEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("browsertest: %s=%s: %w", ChromiumEnv, p, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Browser is one headless Chromium process; each Open is a tab in it.
type Browser struct {
	ctx         context.Context // the browser's chromedp context
	cancel      context.CancelFunc
	cancelAlloc context.CancelFunc
}

// Viewport is the window size a Browser starts with, in CSS pixels.
const (
	ViewportWidth  = 1280
	ViewportHeight = 1000
)

// Start launches headless Chromium (without its sandbox, which needs
// privileges CI containers lack; the pages tested are our own). Close
// stops it.
func Start(ctx context.Context) (*Browser, error) {
	path, err := Find()
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.WindowSize(ViewportWidth, ViewportHeight),
		chromedp.Flag("disable-gpu", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancel := chromedp.NewContext(actx)
	// The first Run starts the browser, whose life is bctx's.
	if err := chromedp.Do(bctx); err != nil {
		cancel()
		cancelAlloc()
		return nil, fmt.Errorf("browsertest: starting %s: %w", path, err)
	}
	return &Browser{ctx: bctx, cancel: cancel, cancelAlloc: cancelAlloc}, nil
}

// Close stops the browser and waits for its process to end.
func (b *Browser) Close() {
	tctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	chromedp.Cancel(tctx)
	b.cancel()
	b.cancelAlloc()
}

// Page is one tab with a page loaded.
type Page struct {
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// Open loads url in a new tab and waits for its load event. Everything the
// page writes to the console from then on is kept (Console, Errors).
func (b *Browser) Open(url string) (*Page, error) {
	tctx, cancel := chromedp.NewContext(b.ctx)
	p := &Page{ctx: tctx, cancel: cancel}
	// Subscribing before navigating loses no message.
	messages := chromedp.Console(tctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, m)
			p.mu.Unlock()
		}
	}()
	if err := chromedp.Do(tctx, chromedp.Navigate(url)); err != nil {
		cancel()
		return nil, fmt.Errorf("browsertest: opening %s: %w", url, err)
	}
	return p, nil
}

// Close closes the tab.
func (p *Page) Close() { p.cancel() }

// Console returns every console message so far.
func (p *Page) Console() []chromedp.ConsoleMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.console)
}

// Errors returns the console errors, uncaught exceptions and browser log
// errors so far, as text with where they came from: a page that works
// leaves this empty.
func (p *Page) Errors() []string {
	var out []string
	for _, m := range p.Console() {
		if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException {
			continue
		}
		s := m.String()
		if m.URL != "" {
			s += fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
		}
		if m.Exception != nil && m.Exception.Exception != nil && m.Exception.Exception.Description != "" {
			s += "\n" + m.Exception.Exception.Description
		}
		out = append(out, s)
	}
	return out
}

// Do runs chromedp actions in the tab, within timeout.
func (p *Page) Do(timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// WaitVisible waits up to timeout for an element matching the CSS
// selector to be rendered: present, laid out with a box, not hidden by
// visibility. (It polls in the page's own JavaScript, which works under
// any Content-Security-Policy the page sets.)
func (p *Page) WaitVisible(selector string, timeout time.Duration) error {
	cond := fmt.Sprintf("(e => !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden')(document.querySelector(%s))", jsString(selector))
	if err := p.WaitTrue(cond, timeout); err != nil {
		return fmt.Errorf("browsertest: waiting for %q to be visible: %w", selector, err)
	}
	return nil
}

// Eval evaluates a JavaScript expression in the page and decodes its
// JSON value into T. A promise is awaited.
func Eval[T any](p *Page, expression string) (T, error) {
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression, chromedp.EvalAwaitPromise))
	if err != nil {
		return v, fmt.Errorf("browsertest: evaluating %.80q: %w", expression, err)
	}
	return v, nil
}

// WaitTrue polls a JavaScript condition every 50 ms until it is true or
// timeout passes; the error then quotes the condition and the page's
// console errors.
func (p *Page) WaitTrue(condition string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := Eval[bool](p, "Boolean("+condition+")")
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("browsertest: %s still false after %v%s", condition, timeout, p.errorsSuffix())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Count returns how many elements match the CSS selector.
func (p *Page) Count(selector string) (int, error) {
	return Eval[int](p, fmt.Sprintf("document.querySelectorAll(%s).length", jsString(selector)))
}

// Text returns the textContent of the first element matching the CSS
// selector ("" when none does).
func (p *Page) Text(selector string) (string, error) {
	return Eval[string](p, fmt.Sprintf("(document.querySelector(%s) || {}).textContent || ''", jsString(selector)))
}

// Stroke drags the mouse (left button down) along points given in the
// element's own CSS pixels, from its top-left corner: the browser turns
// the events into pointerdown/move/up on the element, as a real drag.
func (p *Page) Stroke(selector string, points [][2]float64) error {
	return p.drag(selector, points, true, mouse)
}

func mouse(phase int, x, y float64) chromedp.Action[chromedp.Void] {
	switch phase {
	case dragStart:
		return chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, x, y, chromedp.ButtonLeft, buttons(1))
	case dragMove:
		return chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y, chromedp.ButtonLeft, buttons(1))
	}
	return chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, x, y, chromedp.ButtonLeft)
}

// Hold presses the left mouse button at the first point and moves
// through the others without releasing it, as a stroke still being drawn;
// Release ends it.
func (p *Page) Hold(selector string, points [][2]float64) error {
	return p.drag(selector, points, false, mouse)
}

// Release lets the left mouse button go at point, in the element's own
// CSS pixels.
func (p *Page) Release(selector string, point [2]float64) error {
	x0, y0, err := p.origin(selector)
	if err != nil {
		return err
	}
	return p.Do(30*time.Second, mouse(dragEnd, x0+point[0], y0+point[1]))
}

// TouchStroke drags one finger along points given in the element's own
// CSS pixels, as Stroke does with the mouse: the browser turns the touch
// events into pointer events of pointerType "touch".
func (p *Page) TouchStroke(selector string, points [][2]float64) error {
	return p.drag(selector, points, true, func(phase int, x, y float64) chromedp.Action[chromedp.Void] {
		switch phase {
		case dragStart:
			return touch(input.DispatchTouchEventTypeTouchStart, []*input.TouchPoint{{X: x, Y: y, ID: ptr(0.0)}})
		case dragMove:
			return touch(input.DispatchTouchEventTypeTouchMove, []*input.TouchPoint{{X: x, Y: y, ID: ptr(0.0)}})
		}
		// A touchEnd lists no touch points.
		return touch(input.DispatchTouchEventTypeTouchEnd, []*input.TouchPoint{})
	})
}

// The phases of a drag.
const (
	dragStart = iota
	dragMove
	dragEnd
)

// drag sends event(start) at the first point, event(move) at the others
// and, when end is true, event(end) at the last, in viewport coordinates.
func (p *Page) drag(selector string, points [][2]float64, end bool, event func(phase int, x, y float64) chromedp.Action[chromedp.Void]) error {
	if len(points) == 0 {
		return nil
	}
	x0, y0, err := p.origin(selector)
	if err != nil {
		return err
	}
	var steps []chromedp.Action[chromedp.Void]
	for i, pt := range points {
		phase := dragMove
		if i == 0 {
			phase = dragStart
		}
		steps = append(steps, event(phase, x0+pt[0], y0+pt[1]))
	}
	if end {
		last := points[len(points)-1]
		steps = append(steps, event(dragEnd, x0+last[0], y0+last[1]))
	}
	return p.Do(30*time.Second, steps...)
}

func touch(typ input.DispatchTouchEventType, points []*input.TouchPoint) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: typ, TouchPoints: points})
		return err
	})
}

func ptr[T any](v T) *T { return &v }

// origin scrolls the element into view and returns its top-left corner
// in the viewport.
func (p *Page) origin(selector string) (x, y float64, err error) {
	type box struct{ X, Y float64 }
	b, err := Eval[box](p, fmt.Sprintf("(() => { const e = document.querySelector(%s); e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); return {X: r.left, Y: r.top}; })()", jsString(selector)))
	return b.X, b.Y, err
}

// buttons sets the mask of the buttons held during a move, without which
// a moved pointer reports no button down.
func buttons(mask int64) chromedp.MouseOption {
	return func(p *input.DispatchMouseEventParams) { p.Buttons = mask }
}

// Screenshot writes a PNG of the whole page to path.
func (p *Page) Screenshot(path string) error {
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return fmt.Errorf("browsertest: screenshot: %w", err)
	}
	return os.WriteFile(path, buf, 0o644)
}

func (p *Page) errorsSuffix() string {
	if errs := p.Errors(); len(errs) > 0 {
		return "; the page's console errors:\n" + strings.Join(errs, "\n")
	}
	return ""
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}
