// Package browsertest drives a real headless Chromium through the DevTools
// protocol (chromedp) for the tests of glassbox's web pages: the server's
// playground and the report. It opens a URL (http:// or file://) in a tab,
// collects what the page writes to the console (errors, uncaught
// exceptions, browser log errors such as a refused resource), waits for
// selectors or JavaScript conditions, counts elements, synthesises pointer
// strokes and takes screenshots.
//
// The tests that use it carry the build tag "browser", so that `go test
// ./...` passes on a machine without Chromium, and are named *InBrowser:
// .ci/run installs Debian's chromium and runs `go test -tags browser -run
// InBrowser` on their packages. Chromium is found
// as $GLASSBOX_CHROMIUM, or chromium, chromium-browser, google-chrome on
// the PATH.
package browsertest
