package serve

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// metrics counts what /metrics reports, in the Prometheus text format
// (written by hand: the format is a few lines of text).
type metrics struct {
	inFlight atomic.Int64

	mu       sync.Mutex
	requests map[requestKey]uint64
	expSum   map[string]float64 // explanation seconds by method
	expCount map[string]uint64
}

type requestKey struct {
	endpoint string
	status   int
}

func newMetrics() *metrics {
	return &metrics{requests: map[requestKey]uint64{}, expSum: map[string]float64{}, expCount: map[string]uint64{}}
}

func (m *metrics) request(endpoint string, status int) {
	m.mu.Lock()
	m.requests[requestKey{endpoint, status}]++
	m.mu.Unlock()
}

func (m *metrics) explained(method string, seconds float64) {
	m.mu.Lock()
	m.expSum[method] += seconds
	m.expCount[method]++
	m.mu.Unlock()
}

// write prints every series, sorted, so that the page is stable.
func (m *metrics) write(w io.Writer, explaining int, model, task string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintf(w, "# HELP glassbox_model_info The model this server answers for.\n# TYPE glassbox_model_info gauge\n")
	fmt.Fprintf(w, "glassbox_model_info{model=\"%s\",task=\"%s\"} 1\n", escapeLabel(model), escapeLabel(task))
	fmt.Fprintf(w, "# HELP glassbox_http_requests_total HTTP requests answered, by endpoint and status code (499: the client went away).\n# TYPE glassbox_http_requests_total counter\n")
	keys := slices.SortedFunc(maps.Keys(m.requests), func(a, b requestKey) int {
		if c := strings.Compare(a.endpoint, b.endpoint); c != 0 {
			return c
		}
		return a.status - b.status
	})
	for _, k := range keys {
		fmt.Fprintf(w, "glassbox_http_requests_total{endpoint=\"%s\",status=\"%d\"} %d\n", escapeLabel(k.endpoint), k.status, m.requests[k])
	}
	fmt.Fprintf(w, "# HELP glassbox_explain_seconds Time spent explaining, by method (successful explanations).\n# TYPE glassbox_explain_seconds summary\n")
	for _, method := range slices.Sorted(maps.Keys(m.expCount)) {
		fmt.Fprintf(w, "glassbox_explain_seconds_sum{method=\"%s\"} %s\n", escapeLabel(method), strconv.FormatFloat(m.expSum[method], 'g', -1, 64))
		fmt.Fprintf(w, "glassbox_explain_seconds_count{method=\"%s\"} %d\n", escapeLabel(method), m.expCount[method])
	}
	fmt.Fprintf(w, "# HELP glassbox_http_requests_in_flight Requests being served now.\n# TYPE glassbox_http_requests_in_flight gauge\nglassbox_http_requests_in_flight %d\n", m.inFlight.Load())
	fmt.Fprintf(w, "# HELP glassbox_explanations_in_flight Explanations running now.\n# TYPE glassbox_explanations_in_flight gauge\nglassbox_explanations_in_flight %d\n", explaining)
}

// escapeLabel escapes a label value: backslash, double quote, newline.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}
