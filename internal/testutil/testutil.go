// Package testutil holds small helpers that tests in several packages, and
// the soak and bench tools, share: a free port, a random name suffix, a
// captured run of a command's run function, concurrent calls of one
// function, a server pinged in the background, a TCP proxy that can stop
// answering, a throwaway certificate authority, and loops over inputs that
// must be refused, over inputs and the outputs they must give, and over
// command lines and what they must answer.
package testutil

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"sync"
)

// FreePort asks the kernel for an unused TCP port on 127.0.0.1. The port
// is free when FreePort returns; nothing holds it after that.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// RandHex returns n random bytes as 2n lowercase hex digits.
func RandHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Result is what a command's run function returned and wrote.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// Run calls run (a command's func run(args, environ, stdout, stderr) int)
// with args and no environment and returns its exit code and output.
func Run(run func(args, environ []string, stdout, stderr io.Writer) int, args ...string) Result {
	var out, errOut bytes.Buffer
	code := run(args, nil, &out, &errOut)
	return Result{code, out.String(), errOut.String()}
}

// Concurrently runs f(0) … f(n-1) each in its own goroutine, waits for
// them all and returns their errors by index.
func Concurrently(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = f(i) })
	}
	wg.Wait()
	return errs
}
