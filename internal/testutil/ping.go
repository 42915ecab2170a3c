package testutil

import (
	"net/http"
	"sync"
	"time"
)

// Pings is what PingEvery saw.
type Pings struct {
	Count    int
	Failures []string // transport errors and statuses other than 200
	Slowest  time.Duration
}

// PingEvery GETs url with client every interval, from a goroutine of its
// own, until stop is called; stop waits for that goroutine and returns
// what it saw. Tests use it to show that a server keeps answering while
// it works on something heavy.
func PingEvery(client *http.Client, url string, interval time.Duration) (stop func() Pings) {
	done := make(chan struct{})
	var p Pings
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(interval):
			}
			start := time.Now()
			resp, err := client.Get(url)
			p.Count++
			p.Slowest = max(p.Slowest, time.Since(start))
			if err != nil {
				p.Failures = append(p.Failures, err.Error())
				continue
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				p.Failures = append(p.Failures, resp.Status)
			}
		}
	})
	return func() Pings {
		close(done)
		wg.Wait()
		return p
	}
}
