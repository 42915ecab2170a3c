// Command placement-devdb manages the throwaway PostgreSQL cluster under
// .data/ that `make run` and `make test` use when no database is configured.
//
//	placement-devdb [-dir .data/pg] [-port 55433] start   start it (installing PostgreSQL if needed) and print its URL
//	placement-devdb stop
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/openstack-placement-go/placement/internal/devdb"
)

func main() {
	dir := flag.String("dir", ".data/pg", "cluster directory")
	port := flag.Int("port", 55433, "TCP port on 127.0.0.1")
	flag.Parse()
	c := devdb.Cluster{Dir: *dir, Port: *port}
	ctx := context.Background()
	var err error
	switch flag.Arg(0) {
	case "start", "":
		if err = c.Ensure(ctx); err == nil {
			fmt.Println(c.URL("postgres"))
		}
	case "stop":
		err = c.Stop(ctx)
	default:
		err = fmt.Errorf("unknown command %q (start|stop)", flag.Arg(0))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "placement-devdb:", err)
		os.Exit(1)
	}
}
