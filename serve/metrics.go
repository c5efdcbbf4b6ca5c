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
	rejects  map[string]uint64 // refusals by reason
}

// rejectReasons are the reasons of glassbox_rejected_total, all shown
// from the start (at 0) so that a rate over them is defined.
var rejectReasons = []string{"busy", "content_type", "host", "non_finite", "origin", "timeout", "too_large"}

// gauges are the levels /metrics reports besides the counters.
type gauges struct {
	explaining, predicting int
	memInUse, memBudget    int64
}

type requestKey struct {
	endpoint string
	status   int
}

func newMetrics() *metrics {
	m := &metrics{requests: map[requestKey]uint64{}, expSum: map[string]float64{}, expCount: map[string]uint64{}, rejects: map[string]uint64{}}
	for _, r := range rejectReasons {
		m.rejects[r] = 0
	}
	return m
}

func (m *metrics) rejected(reason string) {
	m.mu.Lock()
	m.rejects[reason]++
	m.mu.Unlock()
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
func (m *metrics) write(w io.Writer, g gauges, model, task string) {
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
	fmt.Fprintf(w, "# HELP glassbox_rejected_total Requests refused, by reason: busy (429: no slot or memory free), content_type (415), host (403: a Host a DNS rebinding sends), non_finite (422: the model's output is NaN or infinite), origin (403: another site's page), timeout (503: past the time limit), too_large (413: body, batch, image or explanation over a limit).\n# TYPE glassbox_rejected_total counter\n")
	for _, reason := range slices.Sorted(maps.Keys(m.rejects)) {
		fmt.Fprintf(w, "glassbox_rejected_total{reason=\"%s\"} %d\n", escapeLabel(reason), m.rejects[reason])
	}
	fmt.Fprintf(w, "# HELP glassbox_http_requests_in_flight Requests being served now.\n# TYPE glassbox_http_requests_in_flight gauge\nglassbox_http_requests_in_flight %d\n", m.inFlight.Load())
	fmt.Fprintf(w, "# HELP glassbox_explanations_in_flight Explanations running now.\n# TYPE glassbox_explanations_in_flight gauge\nglassbox_explanations_in_flight %d\n", g.explaining)
	fmt.Fprintf(w, "# HELP glassbox_predictions_in_flight Predict requests holding a slot now.\n# TYPE glassbox_predictions_in_flight gauge\nglassbox_predictions_in_flight %d\n", g.predicting)
	fmt.Fprintf(w, "# HELP glassbox_memory_reserved_bytes Memory reserved now by requests in progress (bodies, decoding, explanations), estimated.\n# TYPE glassbox_memory_reserved_bytes gauge\nglassbox_memory_reserved_bytes %d\n", g.memInUse)
	fmt.Fprintf(w, "# HELP glassbox_memory_budget_bytes The memory requests in progress may reserve.\n# TYPE glassbox_memory_budget_bytes gauge\nglassbox_memory_budget_bytes %d\n", g.memBudget)
}

// escapeLabel escapes a label value: backslash, double quote, newline.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}
