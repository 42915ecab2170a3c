package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/openstack-placement-go/placement/internal/pycompat"
)

// wsgiPath gives the request path the meaning it has upstream, where the
// WSGI server hands the application PATH_INFO: the dot segments of the path
// as sent are removed (RFC 3986 §5.2.4: "/x/../traits" is /traits,
// "/traits/.." is the root), then it is percent-decoded ("%5F" is "_", and
// "%2F" a slash that routing sees), and every byte is one Latin-1
// character, so that no path segment is text the database refuses. The
// router then matches the decoded path, not the escaped one.
func wsgiPath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := PathInfo(r.URL)
		if path == r.URL.Path && r.URL.RawPath == "" {
			next.ServeHTTP(w, r)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = path
		r2.URL.RawPath = ""
		next.ServeHTTP(w, r2)
	})
}

// PathInfo is the path of u as wsgiPath hands it to the router.
func PathInfo(u *url.URL) string {
	path := u.Path
	if decoded, err := url.PathUnescape(removeDotSegments(u.EscapedPath())); err == nil {
		path = decoded
	}
	return pycompat.Latin1(path)
}

// removeDotSegments is RFC 3986's remove_dot_segments for an absolute path.
func removeDotSegments(in string) string {
	if !strings.Contains(in, ".") {
		return in
	}
	var out []string // segments written, each with its leading "/"
	for in != "" {
		switch {
		case strings.HasPrefix(in, "../"):
			in = in[3:]
		case strings.HasPrefix(in, "./"):
			in = in[2:]
		case strings.HasPrefix(in, "/./"):
			in = in[2:]
		case in == "/.":
			in = "/"
		case strings.HasPrefix(in, "/../"):
			in = in[3:]
			out = dropLast(out)
		case in == "/..":
			in = "/"
			out = dropLast(out)
		case in == "." || in == "..":
			in = ""
		default:
			i := strings.IndexByte(in[1:], '/') + 1
			if i == 0 {
				i = len(in)
			}
			out = append(out, in[:i])
			in = in[i:]
		}
	}
	return strings.Join(out, "")
}

func dropLast(segs []string) []string {
	if len(segs) > 0 {
		return segs[:len(segs)-1]
	}
	return segs
}
