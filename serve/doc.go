// Package serve puts one trained model behind an HTTP API: predictions
// and explanations (with the figures that say how far an explanation can
// be trusted) as JSON, health and Prometheus metrics, and a playground
// page to try the model and see its explanations from a browser.
//
// Endpoints:
//
//	POST /v1/predict  {"rows": [[...], ...]} | {"csv": "..."} | {"image": "<base64 PNG/JPEG>"}
//	POST /v1/explain  one row or image, plus {"method", "seed", "samples", "label", "hide", "picture"}
//	GET  /v1/example  ?index=I: one of Options.Examples (a table: its training rows)
//	GET  /healthz     {"status": "ok", "model", "task", "kind", "input_shape", "feature_stats", ...}
//	GET  /metrics     Prometheus text format
//	GET  /            the playground page: draw a digit, edit a table row, type a text
//
// Rows are in the data's own units; the server standardises them as the
// model was trained. The same request with the same seed gives the same
// explanation, byte for byte, except its "seconds".
//
// Errors come back as {"error": "..."} in the words of the request (its
// JSON fields), with a status saying whose fault it is: 400 for a bad
// request (the message names the problem), 403 for a request from
// another site's web page or for a Host a DNS rebinding sends (see
// Options.AllowOrigins), 405 for a wrong method, 413 for a body, batch,
// image or explanation over the limits, 415 for a POST that is not
// application/json, 422 for an input the model turns into NaN or ±Inf,
// 429 when every slot or the memory budget is busy (with Retry-After),
// 503 when the request ran past its time limit, 500 only for a fault of
// the server. /metrics counts the refusals by reason in
// glassbox_rejected_total.
//
// Limits: at most Options.MaxConcurrentPredict predictions and
// MaxConcurrentExplain explanations run at once, and the memory the
// requests in progress hold (bodies, decoded images, parsed CSV,
// explanations) is estimated before it is allocated and taken from
// Options.MemoryBudget; an image's decoded size is read from its header
// before any pixel is decoded.
package serve
