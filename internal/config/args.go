package config

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ParseArgs takes oslo.config's repeatable "--config-file PATH",
// "--config-file=PATH", "--config-dir DIR" and "--config-dir=DIR" out of
// args. It returns the files in order, followed by every *.conf in each
// directory (sorted, hidden files skipped), and the remaining arguments.
// Parsing stops at "--", which stays in rest. A missing value or a missing
// or unreadable directory is an error.
func ParseArgs(args []string) (files []string, rest []string, err error) {
	var dirs []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name, value, hasValue := strings.Cut(a, "=")
		if name != "--config-file" && name != "--config-dir" {
			rest = append(rest, a)
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, nil, fmt.Errorf("%s: expected one argument", name)
			}
			i++
			value = args[i]
		}
		if value == "" {
			return nil, nil, fmt.Errorf("%s: expected one argument", name)
		}
		if name == "--config-file" {
			files = append(files, value)
		} else {
			dirs = append(dirs, value)
		}
	}
	for _, d := range dirs {
		confs, err := dirFiles(d)
		if err != nil {
			return nil, nil, err
		}
		files = append(files, confs...)
	}
	return files, rest, nil
}

// dirFiles lists DIR/*.conf as oslo.config's --config-dir does.
func dirFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("--config-dir: %w", err)
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".conf") || e.IsDir() {
			continue
		}
		out = append(out, filepath.Join(dir, n))
	}
	sort.Strings(out)
	return out, nil
}
