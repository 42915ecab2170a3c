package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// parseVmRSS returns the VmRSS line of a /proc/PID/status file in KiB.
func parseVmRSS(status []byte) (int, error) { return parseStatusKiB(status, "VmRSS") }

// parseStatusKiB returns a line of a /proc/PID/status file in KiB, e.g.
// VmRSS or VmHWM (the peak resident set size).
func parseStatusKiB(status []byte, field string) (int, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			return strconv.Atoi(f[0])
		}
	}
	return 0, fmt.Errorf("no %s line", field)
}

// parsePPID returns the parent pid from a /proc/PID/stat line; the command
// name in parentheses may itself contain spaces and parentheses.
func parsePPID(stat []byte) (int, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed stat")
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 2 {
		return 0, fmt.Errorf("malformed stat")
	}
	return strconv.Atoi(f[1])
}

// TreeRSS returns the resident set size in KiB of pid and all its
// descendants (uwsgi runs the reference as a master and worker processes).
func TreeRSS(pid int) (int, error) { return treeStatus(pid, "VmRSS") }

// TreePeakRSS returns the sum of the peak resident set sizes (VmHWM) in KiB
// of pid and all its descendants.
func TreePeakRSS(pid int) (int, error) { return treeStatus(pid, "VmHWM") }

func treeStatus(pid int, field string) (int, error) {
	children := map[int][]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		ppid, err := parsePPID(b)
		if err != nil {
			continue
		}
		child, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		children[ppid] = append(children[ppid], child)
	}
	total := 0
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p))
		if err != nil {
			if p == pid {
				return 0, err
			}
			continue
		}
		kib, err := parseStatusKiB(b, field)
		if err != nil {
			continue // kernel threads and zombies have no VmRSS
		}
		total += kib
		queue = append(queue, children[p]...)
	}
	return total, nil
}

// readPIDFile returns the pid stored in a pid file.
func readPIDFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}
