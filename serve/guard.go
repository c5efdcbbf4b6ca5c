package serve

import (
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Requests from web pages. A page on any site can make the user's
// browser send a request to a server on the user's machine: a "simple"
// POST (text/plain, forms) goes out without asking the server first, and
// a DNS name the attacker controls can be pointed at 127.0.0.1 (DNS
// rebinding) so that the page even counts as same-origin. The server
// therefore refuses
//
//   - a POST whose Content-Type is not application/json (415): a browser
//     sends that type cross-origin only after a preflight the server
//     answers for allowed origins alone;
//   - a request whose Origin header is neither the server's own (scheme
//     aside, the Host it was sent to) nor in Options.AllowOrigins (403);
//   - on a connection to a loopback address, a Host header that is not
//     localhost, an IP literal or the host of an allowed origin (403):
//     a rebound DNS name arrives as its own Host.
//
// Clients that are not browsers send no Origin and an IP or localhost
// Host, and pass.

// origins is the parsed Options.AllowOrigins.
type origins struct {
	any   bool            // "*"
	exact map[string]bool // "scheme://host:port", lower case, default port dropped
	hosts map[string]bool // their host names: allowed Host headers on loopback
}

// parseOrigins checks and normalises the allowed origins: each "*" or
// scheme://host[:port] with nothing after it.
func parseOrigins(list []string) (origins, error) {
	o := origins{exact: map[string]bool{}, hosts: map[string]bool{}}
	for _, item := range list {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if item == "*" {
			o.any = true
			continue
		}
		norm, host, ok := normOrigin(item)
		if !ok {
			return o, fmt.Errorf("serve: allowed origin %q: want scheme://host[:port] such as https://example.com, or *", item)
		}
		o.exact[norm] = true
		o.hosts[host] = true
	}
	return o, nil
}

// normOrigin normalises an origin: lower case, the scheme's default port
// dropped. It returns the host name too.
func normOrigin(s string) (norm, host string, ok bool) {
	u, err := url.Parse(strings.ToLower(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", "", false
	}
	host, port := u.Hostname(), u.Port()
	if port == defaultPort(u.Scheme) {
		port = ""
	}
	hp := host
	if strings.Contains(host, ":") {
		hp = "[" + host + "]"
	}
	if port != "" {
		hp += ":" + port
	}
	return u.Scheme + "://" + hp, host, true
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// sameHost reports whether an origin (normalised) names the host r was
// sent to. The scheme is not compared: behind a proxy that ends TLS the
// server sees http for an https page. A Host without a port has the
// origin scheme's default one.
func sameHost(origin string, r *http.Request) bool {
	scheme, hp, _ := strings.Cut(origin, "://")
	host := strings.ToLower(r.Host)
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(strings.Trim(host, "[]"), defaultPort(scheme))
	}
	if _, _, err := net.SplitHostPort(hp); err != nil {
		hp = net.JoinHostPort(strings.Trim(hp, "[]"), defaultPort(scheme))
	}
	return host == hp
}

// checkOrigin refuses a request from another site's page. cors reports
// whether the request comes from an allowed foreign origin, whose answer
// carries the CORS headers.
func (s *Server) checkOrigin(r *http.Request) (cors bool, err error) {
	raw := r.Header.Get("Origin")
	if raw == "" {
		return false, nil
	}
	norm, _, ok := normOrigin(raw)
	switch {
	case ok && sameHost(norm, r):
		return false, nil
	case s.origins.any || (ok && s.origins.exact[norm]):
		return true, nil
	}
	return false, &httpError{status: http.StatusForbidden, reason: "origin",
		msg: fmt.Sprintf("requests from the web page at origin %q are refused: this server answers its own page and clients that are not browsers; its operator can allow other origins", raw)}
}

// checkHost refuses, on a connection to a loopback address, a Host that
// a DNS rebinding would send.
func (s *Server) checkHost(r *http.Request) error {
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return nil
	}
	tcp, ok := local.(*net.TCPAddr)
	if !ok || !tcp.IP.IsLoopback() || r.Host == "" {
		return nil
	}
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || net.ParseIP(host) != nil || s.origins.hosts[host] {
		return nil
	}
	return &httpError{status: http.StatusForbidden, reason: "host",
		msg: fmt.Sprintf("host %q is refused: this server listens on a loopback address and answers requests for localhost or an IP address; its operator can allow other names", r.Host)}
}

// checkContentType refuses a POST body that is not JSON in UTF-8.
func checkContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && mt == "application/json" {
		if cs, ok := params["charset"]; !ok || strings.EqualFold(cs, "utf-8") {
			return nil
		}
	}
	if ct == "" {
		ct = "none"
	} else {
		ct = fmt.Sprintf("%q", ct)
	}
	return &httpError{status: http.StatusUnsupportedMediaType,
		msg: fmt.Sprintf(`Content-Type %s: send the body as JSON in UTF-8, with "Content-Type: application/json"`, ct)}
}

// setCORS lets the page of an allowed foreign origin read the answer.
func setCORS(h http.Header, origin string) {
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
}

// preflight answers a browser's OPTIONS request from an allowed origin.
func preflight(w http.ResponseWriter, origin, method string) {
	h := w.Header()
	setCORS(h, origin)
	h.Set("Access-Control-Allow-Methods", method)
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}
