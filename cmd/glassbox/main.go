// Command glassbox trains neural networks and explains their decisions.
//
//	glassbox demo    [--out DIR]
//	glassbox train   --data SPEC --model SPEC [--epochs N --batch B --lr X --optimizer adam|sgd|momentum --seed S] --out FILE
//	glassbox eval    --model FILE [--data SPEC]
//	glassbox predict --model FILE --input PATH|-
//	glassbox explain --model FILE --input PATH --method NAME --out DIR   (NAME: any method of the explain registry; see explain -h)
//	glassbox inspect --model FILE [--data SPEC] [--input PATH] --out DIR
//	glassbox serve   --model FILE [--addr 127.0.0.1:8080] [--data SPEC]
//
// Every command takes --json to print one JSON object on stdout. Errors go
// to stderr with a non-zero exit code. See the README for the data and
// model SPECs.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/glassbox-ml/glassbox/cmd/glassbox/internal/cli"
)

func main() {
	// SIGTERM (systemd, Docker, Kubernetes) stops a command the way Ctrl-C
	// does: training keeps its checkpoint, the server finishes its requests.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
