// Package serve puts one trained model behind an HTTP API: predictions
// and explanations (with the figures that say how far an explanation can
// be trusted) as JSON, health and Prometheus metrics, and a small web page
// to try the model from a browser.
//
// Endpoints:
//
//	POST /v1/predict  {"rows": [[...], ...]} | {"csv": "..."} | {"image": "<base64 PNG/JPEG>"}
//	POST /v1/explain  one row or image, plus {"method", "seed", "samples", "label", "hide", "picture"}
//	GET  /healthz     {"status": "ok", "model", "task", "input_shape", ...}
//	GET  /metrics     Prometheus text format
//	GET  /            the web page
//
// Rows are in the data's own units; the server standardises them as the
// model was trained. The same request with the same seed gives the same
// explanation, byte for byte, except its "seconds". Errors come back as
// {"error": "..."} with a status saying whose fault it is: 400 for a bad
// request (the message names the problem), 405 for a wrong method, 413 for
// a body or batch over the limits, 429 when every explanation slot is busy
// (with Retry-After), 503 when the request ran past its time limit, 500
// for a fault of the server.
package serve
