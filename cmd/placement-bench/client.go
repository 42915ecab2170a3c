package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client talks to one Placement endpoint as the noauth2 admin.
type Client struct {
	Base  string // e.g. http://127.0.0.1:8778, no trailing slash
	Token string
	HTTP  *http.Client
}

// NewClient returns a client whose transport keeps enough idle connections
// for the worker pools.
func NewClient(base, token string, workers int) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = workers * 2
	tr.MaxIdleConnsPerHost = workers * 2
	return &Client{
		Base:  strings.TrimRight(base, "/"),
		Token: token,
		HTTP:  &http.Client{Transport: tr, Timeout: 10 * time.Minute},
	}
}

// StatusError is a response with an unexpected status.
type StatusError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *StatusError) Error() string {
	body := e.Body
	if len(body) > 300 {
		body = body[:300] + "…"
	}
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, strings.TrimSpace(body))
}

// Do sends one request at the given microversion with body (marshalled to
// JSON unless nil) and decodes a JSON response into out (unless nil). A
// status outside 2xx is a *StatusError.
func (c *Client) Do(ctx context.Context, method, path, version string, body, out any) error {
	_, err := c.do(ctx, method, path, version, body, out)
	return err
}

func (c *Client) do(ctx context.Context, method, path, version string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Auth-Token", c.Token)
	req.Header.Set("OpenStack-API-Version", "placement "+version)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, &StatusError{Method: method, Path: path, Status: resp.StatusCode, Body: string(data)}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decoding response: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// Ping waits until GET / answers 200 or the timeout passes.
func (c *Client) Ping(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if err := c.Do(ctx, http.MethodGet, "/", "1.0", nil, nil); err == nil {
			return nil
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not answer within %s: %v", c.Base, timeout, last)
}
