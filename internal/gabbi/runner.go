package gabbi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// Fixture prepares state before the tests of a file run. It may set values
// in env (read by $ENVIRON['NAME'] substitutions) and create data through
// the HTTP API at baseURL.
type Fixture func(t testing.TB, baseURL string, env map[string]string) error

// Options configures a run of one YAML file.
type Options struct {
	// BaseURL is scheme://host[:port] with an optional path prefix that is
	// kept in front of every relative test url.
	BaseURL string
	// Fixtures are the named fixtures a file may list under fixtures:.
	Fixtures map[string]Fixture
	// Env is the initial environment for $ENVIRON. It is copied, fixtures
	// add to the copy, and names absent from it fall back to os.Getenv.
	Env map[string]string
	// Client sends the requests. Nil means a client with a 60s timeout.
	// Redirects are followed only by tests that set redirects: true,
	// whatever the client's own CheckRedirect says.
	Client *http.Client
	// Check, when set, sees every response whose test's own assertions
	// passed; an error it returns fails the test. The gabbits use it to
	// validate responses against the OpenAPI description.
	Check func(Exchange) error
}

// Exchange is one request a test sent and the response it received, as
// Options.Check sees them. Check must not modify them.
type Exchange struct {
	Method        string
	URL           *url.URL
	RequestHeader http.Header
	Status        int
	Header        http.Header
	Body          []byte
}

// bodyExcerpt is how much of a response body a failure message shows.
const bodyExcerpt = 2000

// RunFile parses the YAML file at path and runs its tests in order as
// subtests of t (t.Run(testName, ...)). The first failing test stops the
// file: the remaining tests are skipped. A file that cannot be read or
// parsed, an unknown fixture and a failing fixture fail t.
func RunFile(t *testing.T, path string, opts Options) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("gabbi: %v", err)
	}
	suite, err := Parse(data)
	if err != nil {
		t.Fatalf("gabbi: %s: %v", path, err)
	}
	r, err := newRunner(path, suite, opts)
	if err != nil {
		t.Fatalf("gabbi: %s: %v", path, err)
	}
	if err := r.setup(t); err != nil {
		t.Fatalf("gabbi: %s: %v", path, err)
	}
	for i := range suite.Tests {
		ran := false
		t.Run(suite.Tests[i].Name, func(t *testing.T) {
			ran = true
			o := r.step(t.Context(), i)
			switch o.kind {
			case outcomeSkip:
				t.Skip(o.msg)
			case outcomeXFail:
				t.Log(o.msg)
			case outcomeFail:
				t.Error(o.err)
			}
		})
		if !ran {
			// go test -run or -skip deselected this test. Later tests may
			// use its response, so run it anyway, as gabbi runs prior
			// tests (use_prior_test); a failure is reported by the next
			// test that does run.
			if o := r.step(t.Context(), i); o.kind == outcomeFail {
				r.unreported = o.err
			}
		}
	}
}

type outcomeKind int

const (
	outcomePass outcomeKind = iota
	outcomeFail
	outcomeSkip
	outcomeXFail // failed as the file expected
)

type outcome struct {
	kind outcomeKind
	msg  string
	err  error
}

// result is what a test's request produced; later tests read it through
// $RESPONSE, $LOCATION, $HEADERS, $URL and $HISTORY.
type result struct {
	name    string
	method  string
	url     string
	status  int // 0 until a response arrived
	header  http.Header
	body    []byte
	json    any
	jsonErr error // why json is unusable: not JSON, empty, or malformed
}

type runner struct {
	file     string
	suite    *Suite
	base     *url.URL
	baseURL  string
	prefix   string
	client   *http.Client
	env      map[string]string
	fixtures map[string]Fixture
	checker  func(Exchange) error
	results  []*result
	failed   string // name of the first failing test
	// unreported is the failure of a test that go test -run deselected;
	// the next test that runs reports it.
	unreported error
}

func newRunner(file string, suite *Suite, opts Options) (*runner, error) {
	base, err := url.Parse(opts.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("base URL: %w", err)
	}
	if base.Scheme != "http" && base.Scheme != "https" || base.Host == "" {
		return nil, fmt.Errorf("base URL %q: want http(s)://host[:port][/prefix]", opts.BaseURL)
	}
	client := opts.Client
	if client == nil {
		client = &http.Client{Timeout: 60 * time.Second}
	}
	env := maps.Clone(opts.Env)
	if env == nil {
		env = map[string]string{}
	}
	return &runner{
		file:     file,
		suite:    suite,
		base:     base,
		baseURL:  opts.BaseURL,
		prefix:   strings.TrimRight(base.Path, "/"),
		client:   client,
		env:      env,
		fixtures: opts.Fixtures,
		checker:  opts.Check,
		results:  make([]*result, len(suite.Tests)),
	}, nil
}

// setup runs the file's fixtures in order.
func (r *runner) setup(tb testing.TB) error {
	for _, name := range r.suite.Fixtures {
		f := r.fixtures[name]
		if f == nil {
			return fmt.Errorf("unknown fixture %q", name)
		}
		if err := f(tb, r.baseURL, r.env); err != nil {
			return fmt.Errorf("fixture %q: %w", name, err)
		}
	}
	return nil
}

// step runs test i, applying skip, xfail and stop-after-first-failure.
func (r *runner) step(ctx context.Context, i int) outcome {
	test := &r.suite.Tests[i]
	if err := r.unreported; err != nil {
		r.unreported = nil
		return outcome{kind: outcomeFail, err: fmt.Errorf("not run: earlier test %q, run for its response although -run deselected it, failed: %w", r.failed, err)}
	}
	if r.failed != "" {
		return outcome{kind: outcomeSkip, msg: fmt.Sprintf("not run: earlier test %q failed", r.failed)}
	}
	if test.Skip != "" {
		return outcome{kind: outcomeSkip, msg: test.Skip}
	}
	err := r.runTest(ctx, i)
	switch {
	case test.XFail && err != nil:
		return outcome{kind: outcomeXFail, msg: "expected failure (xfail): " + err.Error()}
	case test.XFail:
		r.failed = test.Name
		res := r.results[i]
		return outcome{kind: outcomeFail, err: r.failure(i, res, errors.New("unexpected success: the test is marked xfail"))}
	case err != nil:
		r.failed = test.Name
		return outcome{kind: outcomeFail, err: err}
	}
	return outcome{kind: outcomePass}
}

// request is a test's request after substitution; polling resends it as is.
type request struct {
	method  string
	url     string
	header  http.Header
	host    string
	body    []byte
	hasBody bool
}

// runTest sends test i's request (repeatedly when polling) and checks the
// response. The error, if any, is a *testError describing the failure.
func (r *runner) runTest(ctx context.Context, i int) error {
	test := &r.suite.Tests[i]
	r.results[i] = &result{name: test.Name, method: test.Method, url: test.URL}
	req, err := r.buildRequest(i)
	if err != nil {
		return r.failure(i, nil, err)
	}
	r.results[i].url = req.url
	for attempt := 1; ; attempt++ {
		res, err := r.do(ctx, i, req)
		r.results[i] = res
		if err == nil {
			if err = r.check(i, res); err == nil {
				if err = r.checkExchange(req, res); err == nil {
					return nil
				}
			}
		}
		if attempt >= test.Poll.Count {
			return r.failure(i, res, err)
		}
		timer := time.NewTimer(test.Poll.Delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return r.failure(i, res, fmt.Errorf("%w (polling interrupted: %v)", err, ctx.Err()))
		case <-timer.C:
		}
	}
}

func (r *runner) buildRequest(i int) (*request, error) {
	test := &r.suite.Tests[i]
	req := &request{method: test.Method, header: http.Header{}}
	u, err := r.substString(i, test.URL, false)
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	if req.url, err = r.fullURL(i, u); err != nil {
		return nil, err
	}
	for _, h := range test.RequestHeaders {
		v, err := r.substString(i, h.Value, false)
		if err != nil {
			return nil, fmt.Errorf("request header %s: %w", h.Name, err)
		}
		if strings.EqualFold(h.Name, "Host") {
			req.host = v
			continue
		}
		req.header.Set(h.Name, v)
	}
	if req.body, req.hasBody, err = r.buildBody(i); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	return req, nil
}

var absoluteURL = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)

// fullURL joins a relative url to the base URL, keeping the base path
// prefix, and appends query_parameters.
func (r *runner) fullURL(i int, raw string) (string, error) {
	test := &r.suite.Tests[i]
	full := raw
	switch m := absoluteURL.FindStringSubmatch(raw); {
	case m != nil && (strings.EqualFold(m[1], "http") || strings.EqualFold(m[1], "https")):
	case m != nil:
		return "", fmt.Errorf("url %q: only http and https are supported", raw)
	default:
		path := raw
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		// A url that already carries the prefix, such as a Location
		// header, is not prefixed again.
		if r.prefix != "" && path != r.prefix && !strings.HasPrefix(path, r.prefix+"/") && !strings.HasPrefix(path, r.prefix+"?") {
			path = r.prefix + path
		}
		scheme := r.base.Scheme
		if test.SSL {
			scheme = "https"
		}
		full = scheme + "://" + r.base.Host + path
	}
	full = encodeInvalidURLBytes(full)
	if len(test.QueryParameters) == 0 {
		return full, nil
	}
	var parts []string
	for _, q := range test.QueryParameters {
		name, err := r.substString(i, q.Name, false)
		if err != nil {
			return "", fmt.Errorf("query parameter %s: %w", q.Name, err)
		}
		for _, v := range q.Values {
			val := pyStr(v)
			if s, ok := v.(string); ok {
				if val, err = r.substString(i, s, false); err != nil {
					return "", fmt.Errorf("query parameter %s: %w", q.Name, err)
				}
			}
			parts = append(parts, url.QueryEscape(name)+"="+url.QueryEscape(val))
		}
	}
	query := strings.Join(parts, "&")
	full, frag, _ := strings.Cut(full, "#")
	sep := "?"
	if strings.Contains(full, "?") {
		sep = "&"
		if strings.HasSuffix(full, "?") || strings.HasSuffix(full, "&") {
			sep = ""
		}
	}
	full += sep + query
	if frag != "" {
		full += "#" + frag
	}
	return full, nil
}

// encodeInvalidURLBytes percent-encodes bytes that may not appear in a URL
// (controls, space, non-ASCII, and "<>\^`{|}), as urllib3 does for gabbi,
// so that a url such as /x?name=a b is sendable. Existing %XX escapes are
// kept.
func encodeInvalidURLBytes(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"<>\\^`{|}", c) >= 0 {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// buildBody turns data into bytes: strings are sent as they are, anything
// else is JSON-encoded. No Content-Type is added; the file decides.
func (r *runner) buildBody(i int) ([]byte, bool, error) {
	data := r.suite.Tests[i].Data
	if data == nil || data == "" {
		return nil, false, nil
	}
	v, err := r.substValue(i, data)
	if err != nil {
		return nil, false, err
	}
	if s, ok := v.(string); ok {
		if _, wasString := data.(string); wasString {
			return []byte(s), true, nil
		}
	}
	b, err := pycompat.Marshal(v)
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

func (r *runner) do(ctx context.Context, i int, req *request) (*result, error) {
	test := &r.suite.Tests[i]
	res := &result{name: test.Name, method: req.method, url: req.url}
	var body io.Reader
	if req.hasBody {
		body = bytes.NewReader(req.body)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.method, req.url, body)
	if err != nil {
		return res, fmt.Errorf("building request: %w", err)
	}
	hreq.Header = req.header.Clone()
	if req.host != "" {
		hreq.Host = req.host
	}
	client := *r.client
	if test.Redirects {
		client.CheckRedirect = nil
	} else {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	resp, err := client.Do(hreq)
	if err != nil {
		return res, fmt.Errorf("sending request: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return res, fmt.Errorf("reading response: %w", err)
	}
	res.status, res.header, res.body = resp.StatusCode, resp.Header, b
	res.json, res.jsonErr = decodeResponseJSON(resp.Header.Get("Content-Type"), b)
	return res, nil
}

// isJSONContentType reports whether a Content-Type is one gabbi's JSON
// handler accepts.
func isJSONContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// errNotJSON wraps the reasons a response has no usable JSON body.
var errNotJSON = errors.New("no JSON response body")

func decodeResponseJSON(ct string, body []byte) (any, error) {
	if !isJSONContentType(ct) {
		return nil, fmt.Errorf("%w: Content-Type is %q", errNotJSON, ct)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fmt.Errorf("%w: the body is empty", errNotJSON)
	}
	v, err := decodeJSON(body)
	if err != nil {
		return nil, fmt.Errorf("response body is not valid JSON: %w", err)
	}
	return v, nil
}

func isRegex(s string) bool {
	return len(s) > 1 && strings.HasPrefix(s, "/") && strings.HasSuffix(s, "/")
}

// compileRegex compiles the inside of a /regex/ expectation.
func compileRegex(s string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(s[1 : len(s)-1])
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression %s: %w", s, err)
	}
	return re, nil
}

// check applies test i's assertions to res, in gabbi's order: status,
// forbidden headers, headers, strings, JSON paths.
func (r *runner) check(i int, res *result) error {
	test := &r.suite.Tests[i]
	if !slices.Contains(test.Status, res.status) {
		want := make([]string, len(test.Status))
		for j, s := range test.Status {
			want[j] = strconv.Itoa(s)
		}
		return fmt.Errorf("expected status %s, got %d", strings.Join(want, " || "), res.status)
	}
	if res.jsonErr != nil && !errors.Is(res.jsonErr, errNotJSON) {
		return res.jsonErr
	}
	for _, h := range test.ResponseForbiddenHeaders {
		if vals := res.header.Values(h); len(vals) > 0 {
			return fmt.Errorf("forbidden header %s present in response: %q", h, strings.Join(vals, ", "))
		}
	}
	for _, h := range test.ResponseHeaders {
		if err := r.checkHeader(i, res, h); err != nil {
			return err
		}
	}
	for _, s := range test.ResponseStrings {
		want, err := r.substString(i, s, false)
		if err != nil {
			return fmt.Errorf("response_strings %q: %w", s, err)
		}
		if !bytes.Contains(res.body, []byte(want)) {
			return fmt.Errorf("response body does not contain %q", want)
		}
	}
	if len(test.ResponseJSONPaths) > 0 && res.jsonErr != nil {
		return fmt.Errorf("response_json_paths: %w", res.jsonErr)
	}
	for _, c := range test.ResponseJSONPaths {
		if err := r.checkJSONPath(i, res, c); err != nil {
			return err
		}
	}
	return nil
}

// checkExchange passes the exchange to Options.Check.
func (r *runner) checkExchange(req *request, res *result) error {
	if r.checker == nil {
		return nil
	}
	u, err := url.Parse(req.url)
	if err != nil {
		return fmt.Errorf("check: request url: %w", err)
	}
	if err := r.checker(Exchange{
		Method:        req.method,
		URL:           u,
		RequestHeader: req.header,
		Status:        res.status,
		Header:        res.header,
		Body:          res.body,
	}); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	return nil
}

func (r *runner) checkHeader(i int, res *result, h Header) error {
	regex := isRegex(h.Value)
	want, err := r.substString(i, h.Value, regex)
	if err != nil {
		return fmt.Errorf("response_headers %s: %w", h.Name, err)
	}
	vals := res.header.Values(h.Name)
	if len(vals) == 0 {
		return fmt.Errorf("header %s not present in response", h.Name)
	}
	got := strings.Join(vals, ", ")
	if regex {
		re, err := compileRegex(want)
		if err != nil {
			return fmt.Errorf("response_headers %s: %w", h.Name, err)
		}
		if !re.MatchString(got) {
			return fmt.Errorf("expected header %s to match %s, got %q", h.Name, want, got)
		}
		return nil
	}
	if got != want {
		return fmt.Errorf("expected header %s to be %q, got %q", h.Name, want, got)
	}
	return nil
}

func (r *runner) checkJSONPath(i int, res *result, c JSONPathCheck) error {
	path, err := r.substString(i, c.Path, false)
	if err != nil {
		return fmt.Errorf("response_json_paths %s: %w", c.Path, err)
	}
	got, err := extractPath(res.json, path)
	if err != nil {
		return err
	}
	if s, ok := c.Expected.(string); ok && isRegex(s) {
		want, err := r.substString(i, s, true)
		if err != nil {
			return fmt.Errorf("response_json_paths %s: %w", c.Path, err)
		}
		re, err := compileRegex(want)
		if err != nil {
			return fmt.Errorf("response_json_paths %s: %w", c.Path, err)
		}
		if !re.MatchString(pyStr(got)) {
			return fmt.Errorf("JSONPath %s: expected a match for %s, got %s", path, want, pyStr(got))
		}
		return nil
	}
	want, err := r.substValue(i, c.Expected)
	if err != nil {
		return fmt.Errorf("response_json_paths %s: %w", c.Path, err)
	}
	if !pycompat.Equal(want, got) {
		return fmt.Errorf("JSONPath %s: expected %s, got %s", path, show(want), show(got))
	}
	return nil
}

// testError is a test failure with the context a reader needs: file, test,
// request and response.
type testError struct {
	file, test  string
	method, url string
	err         error
	status      int
	body        []byte
	hasResponse bool
}

func (e *testError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: test %q: %s %s: %v", e.file, e.test, e.method, e.url, e.err)
	if e.hasResponse {
		body := e.body
		more := ""
		if len(body) > bodyExcerpt {
			body, more = body[:bodyExcerpt], "\n[... body truncated]"
		}
		fmt.Fprintf(&b, "\nresponse status %d, body (first %d bytes):\n%s%s", e.status, bodyExcerpt, body, more)
	}
	return b.String()
}

func (e *testError) Unwrap() error { return e.err }

func (r *runner) failure(i int, res *result, err error) error {
	test := &r.suite.Tests[i]
	te := &testError{file: r.file, test: test.Name, method: test.Method, url: test.URL, err: err}
	if cur := r.results[i]; cur != nil {
		te.method, te.url = cur.method, cur.url
	}
	if res != nil && res.status != 0 {
		te.method, te.url = res.method, res.url
		te.status, te.body, te.hasResponse = res.status, res.body, true
	}
	return te
}
