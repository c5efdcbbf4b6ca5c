package kern

// parseRunnable reads the running/ready thread count, the number before
// the '/' in the fourth field of /proc/loadavg ("0.52 0.38 0.30 4/311 12345").
func parseRunnable(b []byte) (int, bool) {
	field := 0
	for i := 0; i < len(b); i++ {
		if b[i] == ' ' {
			field++
			continue
		}
		if field == 3 {
			n, digits := 0, 0
			for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
				n = n*10 + int(b[i]-'0')
				digits++
			}
			if digits == 0 || i >= len(b) || b[i] != '/' {
				return 0, false
			}
			return n, true
		}
	}
	return 0, false
}
